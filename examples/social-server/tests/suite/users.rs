//! Users: register conflicts and validation, profiles, owner-only edits.

#[allow(unused_imports)]
use super::*;

pub(super) async fn users(s: &Server, ada: &str, ada_t: &str, bob_t: &str) {
    // 409 naming the field, 422 naming every invalid field.
    let r = s
        .post(
            "/users",
            None,
            json!({"username": "ADA", "email": "new@example.com", "password": "password-123"}),
        )
        .await
        .error(409, "conflict");
    assert_eq!(r.body["error"]["fields"][0]["field"], "username");
    let r = s
        .post(
            "/users",
            None,
            json!({"username": "ada2", "email": "ada@example.com", "password": "password-123"}),
        )
        .await
        .error(409, "conflict");
    assert_eq!(r.body["error"]["fields"][0]["field"], "email");
    let r = s
        .post(
            "/users",
            None,
            json!({"username": "x", "email": "nope", "password": "short"}),
        )
        .await
        .error(422, "validation_failed");
    let fields: Vec<&str> = r.body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["username", "email", "password"], "{}", r.body);
    assert!(r.body["error"]["fields"][0]["rule"].is_string());

    // Get: the email only for its owner.
    let me = s
        .get(&format!("/users/{ada}"), Some(ada_t))
        .await
        .expect(200);
    assert_eq!(me.body["email"], "ada@example.com");
    assert!(me.body.get("password_hash").is_none());
    let other = s
        .get(&format!("/users/{ada}"), Some(bob_t))
        .await
        .expect(200);
    assert!(other.body.get("email").is_none());
    s.get(&format!("/users/{}", uuid::Uuid::nil()), None)
        .await
        .error(404, "not_found");

    // PATCH and PUT: the owner only.
    let r = s
        .call(
            Method::PATCH,
            &format!("/users/{ada}"),
            Some(ada_t),
            Some(json!({"display_name": "Ada L.", "bio": "engines"})),
        )
        .await
        .expect(200);
    assert_eq!(r.body["display_name"], "Ada L.");
    let r = s.get(&format!("/users/{ada}"), None).await.expect(200);
    assert_eq!(
        r.body["display_name"], "Ada L.",
        "cache invalidated on write"
    );
    s.call(
        Method::PATCH,
        &format!("/users/{ada}"),
        Some(bob_t),
        Some(json!({"bio": "hacked"})),
    )
    .await
    .error(403, "forbidden");
    let full = json!({"username": "ada", "email": "ada@example.com", "display_name": "Ada", "bio": null, "avatar_url": null});
    s.call(
        Method::PUT,
        &format!("/users/{ada}"),
        Some(bob_t),
        Some(full.clone()),
    )
    .await
    .error(403, "forbidden");
    let r = s
        .call(
            Method::PUT,
            &format!("/users/{ada}"),
            Some(ada_t),
            Some(full),
        )
        .await
        .expect(200);
    assert_eq!(r.body["bio"], Value::Null);
    s.call(
        Method::PATCH,
        &format!("/users/{ada}"),
        Some(ada_t),
        Some(json!({"username": "bob"})),
    )
    .await
    .error(409, "conflict");
    s.call(
        Method::PATCH,
        &format!("/users/{ada}"),
        None,
        Some(json!({"bio": "x"})),
    )
    .await
    .error(401, "unauthorized");
}
