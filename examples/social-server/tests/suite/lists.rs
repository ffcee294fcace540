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
    s.get("/posts", None).await.error(422, "validation_failed");
    s.get(&format!("/posts?author_id={ada}&order=sideways"), None)
        .await
        .error(400, "bad_query");
}
