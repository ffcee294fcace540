//! The demo dataset: a few users who follow each other, posts, likes and comments, so a newcomer
//! sees a real feed at once. Every demo user's password is [`PASSWORD`].

use keel_storage::{NewComment, NewPost, NewUser, UserId, Visibility};

use crate::state::AppState;

/// The password of every demo user.
pub const PASSWORD: &str = "keel-demo-password";

/// Demo users: username, display name, bio.
pub const USERS: [(&str, &str, &str); 4] = [
    ("ada", "Ada Lovelace", "Analytical engines and poetry."),
    (
        "grace",
        "Grace Hopper",
        "It's easier to ask forgiveness than permission.",
    ),
    ("linus", "Linus", "Talk is cheap. Show me the code."),
    (
        "ferris",
        "Ferris",
        "The Rust crab. Log in as me to see a feed.",
    ),
];

/// Loads the dataset into `state`'s store (events flow to timelines as for any write).
///
/// # Errors
/// A storage or hashing error, as text.
pub async fn load(state: &AppState) -> Result<(), String> {
    let hash = state
        .hasher
        .hash(PASSWORD)
        .await
        .map_err(|e| e.to_string())?;
    let mut ids: Vec<UserId> = Vec::new();
    for (username, display, bio) in USERS {
        let u = match state.store.user_by_username(username).await {
            Ok(u) => u,
            Err(_) => state
                .store
                .create_user(NewUser {
                    username: username.to_owned(),
                    email: format!("{username}@demo.keel.invalid"),
                    password_hash: hash.clone(),
                    display_name: display.to_owned(),
                    bio: Some(bio.to_owned()),
                    avatar_url: None,
                })
                .await
                .map_err(|e| e.to_string())?,
        };
        ids.push(u.id);
    }
    let [ada, grace, linus, ferris] = ids[..] else {
        return Err("demo users missing".to_owned());
    };
    for (a, b) in [
        (ferris, ada),
        (ferris, grace),
        (ferris, linus),
        (ada, grace),
        (grace, ada),
        (linus, ferris),
    ] {
        state.store.follow(a, b).await.map_err(|e| e.to_string())?;
    }
    let posts = [
        (
            ada,
            "The engine weaves algebraic patterns as the loom weaves flowers. #history",
            Visibility::Public,
        ),
        (
            grace,
            "A ship in port is safe, but that is not what ships are built for. #quotes",
            Visibility::Public,
        ),
        (
            linus,
            "Release early, release often. #opensource",
            Visibility::Public,
        ),
        (
            ada,
            "Notes on the engine, for followers only.",
            Visibility::Followers,
        ),
        (
            grace,
            "Found a moth in relay 70. First actual bug! #debugging",
            Visibility::Public,
        ),
        (
            ferris,
            "Hello from Keel! Try GET /feed, /posts/trending and /posts/search?q=rust #rust",
            Visibility::Public,
        ),
    ];
    let mut created = Vec::new();
    for (author, text, visibility) in posts {
        let mut p = NewPost::text(author, text);
        p.visibility = visibility;
        created.push(
            state
                .store
                .create_post(p)
                .await
                .map_err(|e| e.to_string())?,
        );
    }
    for post in created
        .iter()
        .filter(|p| p.visibility == Visibility::Public)
    {
        for user in [ferris, grace] {
            if user != post.author {
                state
                    .store
                    .like(user, post.id)
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
    }
    if let Some(post) = created.first() {
        state
            .store
            .add_comment(NewComment {
                post: post.id,
                author: ferris,
                parent: None,
                content: "Beautiful. 🦀".to_owned(),
            })
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}
