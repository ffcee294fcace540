//! Cursor pagination with Link headers, filters and sorting.

#[allow(unused_imports)]
use super::*;

pub(super) async fn lists(s: &Server, ada: &str, ada_t: &str, posts: &Posts) {
    // Cursor pagination with Link headers, both ways.
    let first = s
        .get(&format!("/users/{ada}/posts?limit=2"), Some(ada_t))
        .await
        .expect(200);
    assert_eq!(
        ids(&first.body),
        [posts.private.clone(), posts.followers.clone()]
    );
    let link = first.header("link").unwrap().to_owned();
    assert!(
        link.contains("rel=\"next\"") && link.contains("limit=2"),
        "{link}"
    );
    let next_url = link.split(['<', '>']).nth(1).unwrap().to_owned();
    let second = s.get(&next_url, Some(ada_t)).await.expect(200);
    assert_eq!(
        ids(&second.body),
        [posts.public[2].clone(), posts.public[1].clone()]
    );
    assert!(second.header("link").unwrap().contains("rel=\"prev\""));
    let prev = second.body["prev_cursor"].as_str().unwrap();
    let back = s
        .get(
            &format!("/users/{ada}/posts?limit=2&before={prev}"),
            Some(ada_t),
        )
        .await
        .expect(200);
    assert_eq!(ids(&back.body), ids(&first.body));
    // Anonymous readers see only public posts.
    let anon = s
        .get(&format!("/users/{ada}/posts?limit=100"), None)
        .await
        .expect(200);
    assert_eq!(ids(&anon.body).len(), 3);
    // Limits: default 20, max 100 (clamped).
    s.get(&format!("/users/{ada}/posts?limit=1000"), None)
        .await
        .expect(200);
    // Bad and foreign cursors.
    s.get(&format!("/users/{ada}/posts?after=garbage"), None)
        .await
        .error(400, "bad_cursor");
    let foreign = first.body["next_cursor"].as_str().unwrap();
    s.get(&format!("/users/{ada}/followers?after={foreign}"), None)
        .await
        .error(400, "bad_cursor");
    s.get(&format!("/users/{ada}/posts?limit=abc"), None)
        .await
        .error(400, "bad_query");

    // Filtering and sorting on /posts.
    let asc = s
        .get(
            &format!(
                "/posts?author_id={ada}&created_after=2000-01-01&sort=created_at&order=asc&limit=2"
            ),
            None,
        )
        .await
        .expect(200);
    assert_eq!(
        ids(&asc.body),
        [posts.public[0].clone(), posts.public[1].clone()]
    );
    let next = asc.body["next_cursor"].as_str().unwrap();
    let asc2 = s
        .get(&format!("/posts?author_id={ada}&created_after=2000-01-01&sort=created_at&order=asc&limit=2&after={next}"), None)
        .await
        .expect(200);
    assert_eq!(ids(&asc2.body), [posts.public[2].clone()]);
    let desc = s
        .get(
            &format!("/posts?author_id={ada}&sort=created_at&order=desc"),
            None,
        )
        .await
        .expect(200);
    assert_eq!(
        ids(&desc.body),
        posts.public.iter().rev().cloned().collect::<Vec<_>>()
    );
    let none = s
        .get(
            &format!("/posts?author_id={ada}&created_after=2999-01-01"),
            None,
        )
        .await
        .expect(200);
    assert_eq!(ids(&none.body).len(), 0);
    s.get(
        &format!("/posts?author_id={ada}&created_after=yesterday"),
        None,
    )
    .await
    .error(422, "validation_failed");
    // Every author's posts (no author_id), as each viewer may see them.
    let walk = |token: Option<String>, query: &'static str| async move {
        let mut out = Vec::new();
        let mut url = format!("/posts?{query}&limit=2");
        for _ in 0..100 {
            let page = s.get(&url, token.as_deref()).await.expect(200);
            out.extend(ids(&page.body));
            match page.header("link").and_then(|l| {
                l.split(',')
                    .find(|p| p.contains("rel=\"next\""))
                    .and_then(|p| p.split(['<', '>']).nth(1))
                    .map(str::to_owned)
            }) {
                Some(next) => url = next,
                None => break,
            }
        }
        out
    };
    let anon = walk(None, "sort=created_at&order=desc").await;
    let whole = s.get("/posts?limit=100", None).await.expect(200);
    assert_eq!(anon, ids(&whole.body), "pages of 2 read the whole list");
    for p in &posts.public {
        assert!(anon.contains(p), "public post {p} listed");
    }
    assert!(!anon.contains(&posts.private) && !anon.contains(&posts.followers));
    let mine = walk(Some(ada_t.to_owned()), "order=desc").await;
    assert!(mine.contains(&posts.private) && mine.contains(&posts.followers));
    let times = |list: &Value| -> Vec<String> {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["created_at"].as_str().unwrap().to_owned())
            .collect()
    };
    let desc_times = times(&whole.body);
    assert!(
        desc_times.windows(2).all(|w| w[0] >= w[1]),
        "{desc_times:?}"
    );
    let mut oldest = walk(Some(ada_t.to_owned()), "order=asc").await;
    oldest.reverse();
    assert_eq!(oldest, mine, "ascending is the reverse of descending");
    // created_before is exclusive, and both bounds are checked, every bad field reported.
    let one = s
        .get(&format!("/posts/{}", posts.public[1]), None)
        .await
        .expect(200);
    let at = one.body["created_at"].as_str().unwrap().to_owned();
    let before = s
        .get(&format!("/posts?author_id={ada}&created_before={at}"), None)
        .await
        .expect(200);
    assert_eq!(ids(&before.body), [posts.public[0].clone()]);
    let bad = s
        .get("/posts?created_after=soon&created_before=later", None)
        .await
        .error(422, "validation_failed");
    let fields: Vec<&str> = bad.body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["created_after", "created_before"]);
    s.get(&format!("/posts?author_id={}", uuid::Uuid::nil()), None)
        .await
        .error(404, "not_found");
    s.get(&format!("/posts?author_id={ada}&order=sideways"), None)
        .await
        .error(400, "bad_query");
}
