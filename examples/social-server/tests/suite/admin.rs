//! Administration: marking a user verified with the admin token.

#[allow(unused_imports)]
use super::*;

use crate::support::ADMIN_TOKEN;

pub(super) async fn admin(s: &Server, bob: &str) {
    let path = format!("/admin/users/{bob}/verified");
    let put = |token: Option<&'static str>, body: Value| {
        let mut r = s.client.put(format!("{}{path}", s.base)).json(&body);
        if let Some(t) = token {
            r = r.header("x-admin-token", t);
        }
        async move {
            let resp = r.send().await.unwrap();
            let status = resp.status().as_u16();
            (status, resp.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, body) = put(None, json!({"verified": true})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );
    let (status, _) = put(
        Some("not-the-admin-token-not-the-admin-token"),
        json!({"verified": true}),
    )
    .await;
    assert_eq!(status, 401);
    let (status, body) = put(Some(ADMIN_TOKEN), json!({"verified": true})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["verified"], true);
    assert!(body.get("email").is_none(), "admin views hide the email");
    let profile = s.get(&format!("/users/{bob}"), None).await.expect(200);
    assert_eq!(
        profile.body["verified"], true,
        "the profile cache was invalidated"
    );
    let (status, body) = put(Some(ADMIN_TOKEN), json!({"verified": false})).await;
    assert_eq!((status, body["verified"].as_bool()), (200, Some(false)));
    let (status, _) = put(Some(ADMIN_TOKEN), json!({"verified": "yes"})).await;
    assert_eq!(status, 400);
    let (status, _) = put(Some(ADMIN_TOKEN), json!({"verified": true, "extra": 1})).await;
    assert_eq!(status, 400);
    let nobody = s
        .client
        .put(format!(
            "{}/admin/users/{}/verified",
            s.base,
            uuid::Uuid::nil()
        ))
        .header("x-admin-token", ADMIN_TOKEN)
        .json(&json!({"verified": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(nobody.status().as_u16(), 404);
}
