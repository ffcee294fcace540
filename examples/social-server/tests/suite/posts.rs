//! Posts: creation, visibility (404, never 403), author-only edits.

#[allow(unused_imports)]
use super::*;

pub(super) struct Posts {
    pub(super) public: Vec<String>,
    pub(super) followers: String,
    pub(super) private: String,
}

pub(super) async fn posts(s: &Server, ada: &str, ada_t: &str, _bob: &str, bob_t: &str) -> Posts {
    s.post("/posts", None, json!({"content": "anon"}))
        .await
        .error(401, "unauthorized");
    s.post("/posts", Some(ada_t), json!({"content": ""}))
        .await
        .error(422, "validation_failed");
    // Every invalid field is reported with its rule.
    let bad = s
        .post(
            "/posts",
            Some(ada_t),
            json!({"content": " ", "post_type": "image", "media": []}),
        )
        .await
        .error(422, "validation_failed");
    let fields: Vec<(&str, &str)> = bad.body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["field"].as_str().unwrap(), f["rule"].as_str().unwrap()))
        .collect();
    assert_eq!(
        fields,
        [
            ("content", "must not be empty"),
            ("media", "a image post needs at least one media URL")
        ],
        "{}",
        bad.body
    );
    let mut public = Vec::new();
    for text in [
        "first #rust post",
        "second post about engines",
        "third #rust post",
    ] {
        let r = s
            .post("/posts", Some(ada_t), json!({"content": text}))
            .await
            .expect(201);
        assert!(r.header("location").unwrap().starts_with("/posts/"));
        assert_eq!(r.body["author_id"], ada);
        public.push(r.body["id"].as_str().unwrap().to_owned());
    }
    let followers = s
        .post(
            "/posts",
            Some(ada_t),
            json!({"content": "for followers", "visibility": "followers"}),
        )
        .await
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let private = s
        .post(
            "/posts",
            Some(ada_t),
            json!({"content": "just me", "visibility": "private"}),
        )
        .await
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Visibility: 404, not 403, for those who may not see.
    s.get(&format!("/posts/{}", public[0]), None)
        .await
        .expect(200);
    s.get(&format!("/posts/{private}"), Some(ada_t))
        .await
        .expect(200);
    s.get(&format!("/posts/{private}"), Some(bob_t))
        .await
        .error(404, "not_found");
    s.get(&format!("/posts/{private}"), None)
        .await
        .error(404, "not_found");
    s.get(&format!("/posts/{followers}"), Some(bob_t))
        .await
        .error(404, "not_found");
    s.post(&format!("/posts/{private}/like"), Some(bob_t), json!({}))
        .await
        .error(404, "not_found");
    s.post(
        &format!("/posts/{private}/comments"),
        Some(bob_t),
        json!({"content": "hi"}),
    )
    .await
    .error(404, "not_found");

    // Edits: the author only (403 for another user's visible post).
    let p = &public[0];
    s.call(
        Method::PATCH,
        &format!("/posts/{p}"),
        Some(bob_t),
        Some(json!({"content": "mine now"})),
    )
    .await
    .error(403, "forbidden");
    s.call(
        Method::PUT,
        &format!("/posts/{p}"),
        Some(bob_t),
        Some(json!({"content": "x", "media": [], "post_type": "text", "visibility": "public"})),
    )
    .await
    .error(403, "forbidden");
    s.call(Method::DELETE, &format!("/posts/{p}"), Some(bob_t), None)
        .await
        .error(403, "forbidden");
    s.call(
        Method::PATCH,
        &format!("/posts/{private}"),
        Some(bob_t),
        Some(json!({"content": "x"})),
    )
    .await
    .error(404, "not_found");
    let r = s
        .call(
            Method::PATCH,
            &format!("/posts/{p}"),
            Some(ada_t),
            Some(json!({"content": "first #rust post, edited"})),
        )
        .await
        .expect(200);
    assert_eq!(r.body["content"], "first #rust post, edited");
    let r = s.get(&format!("/posts/{p}"), None).await.expect(200);
    assert_eq!(r.body["content"], "first #rust post, edited");
    let r = s
        .call(Method::PUT, &format!("/posts/{p}"), Some(ada_t), Some(json!({"content": "first #rust post", "media": [], "post_type": "text", "visibility": "public"})))
        .await
        .expect(200);
    assert_eq!(r.body["hashtags"], json!(["rust"]));
    Posts {
        public,
        followers,
        private,
    }
}
