//! Differential test: random operation sequences applied to the memory backend and to
//! PostgreSQL, on the same clock and id seed, give the same results, call by call.

use std::sync::Arc;
use std::time::Duration;

use keel_storage::page::Seek;
use keel_storage::{
    CommentId, IdGenerator, ManualClock, MemoryStore, NewComment, NewPost, NewUser, OutboxRepo,
    PostId, PostPatch, StorageError, Store, Timestamp, UserId, UserPatch, Visibility,
};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    CreateUser(u8),
    UpdateUser(u8, u8, bool),
    DeleteUser(u8),
    CreatePost(u8, u8, u8),
    UpdatePost(u8, u8),
    DeletePost(u8),
    Follow(u8, u8),
    Unfollow(u8, u8),
    Like(u8, u8),
    Unlike(u8, u8),
    Comment(u8, u8, Option<u8>),
    DeleteComment(u8),
    ListPosts(u8, u8),
    FilteredPosts(u8, u8, bool, u8),
    Followers(u8, u8),
    Following(u8, u8),
    Comments(u8, u8),
    Prefix(u8, u8),
    Search(u8),
    Tick(u8),
}

fn op() -> impl Strategy<Value = Op> {
    let i = || any::<u8>();
    prop_oneof![
        3 => (0u8..8).prop_map(Op::CreateUser),
        1 => (i(), i(), any::<bool>()).prop_map(|(a, b, c)| Op::UpdateUser(a, b, c)),
        1 => i().prop_map(Op::DeleteUser),
        4 => (i(), i(), i()).prop_map(|(a, b, c)| Op::CreatePost(a, b, c)),
        1 => (i(), i()).prop_map(|(a, b)| Op::UpdatePost(a, b)),
        1 => i().prop_map(Op::DeletePost),
        3 => (i(), i()).prop_map(|(a, b)| Op::Follow(a, b)),
        1 => (i(), i()).prop_map(|(a, b)| Op::Unfollow(a, b)),
        3 => (i(), i()).prop_map(|(a, b)| Op::Like(a, b)),
        1 => (i(), i()).prop_map(|(a, b)| Op::Unlike(a, b)),
        2 => (i(), i(), proptest::option::of(i())).prop_map(|(a, b, c)| Op::Comment(a, b, c)),
        1 => i().prop_map(Op::DeleteComment),
        2 => (i(), 1u8..4).prop_map(|(a, b)| Op::ListPosts(a, b)),
        2 => (i(), i(), any::<bool>(), 1u8..4).prop_map(|(a, b, c, d)| Op::FilteredPosts(a, b, c, d)),
        1 => (i(), 1u8..4).prop_map(|(a, b)| Op::Followers(a, b)),
        1 => (i(), 1u8..4).prop_map(|(a, b)| Op::Following(a, b)),
        1 => (i(), 1u8..4).prop_map(|(a, b)| Op::Comments(a, b)),
        1 => (0u8..4, 1u8..4).prop_map(|(a, b)| Op::Prefix(a, b)),
        1 => (0u8..4).prop_map(Op::Search),
        2 => (0u8..3).prop_map(Op::Tick),
    ]
}

const TEXTS: [&str; 4] = [
    "hello #rust world",
    "async @user1 #Rust and #tokio",
    "plain words only",
    "#go #rust @user2 @user3 words",
];

/// Ids minted so far (from the memory store's answers; PostgreSQL must agree).
#[derive(Default)]
struct Ids {
    users: Vec<UserId>,
    posts: Vec<PostId>,
    comments: Vec<CommentId>,
}

fn pick<T: Copy>(v: &[T], i: u8, missing: T) -> T {
    if v.is_empty() {
        missing
    } else {
        v[usize::from(i) % v.len()]
    }
}

/// A backend-neutral rendering of an error: the variant and its field.
fn err(e: &StorageError) -> String {
    match e {
        StorageError::NotFound { .. } => "NotFound".into(),
        StorageError::Conflict { field, .. } => format!("Conflict({field})"),
        StorageError::InvalidInput { field, .. } => format!("Invalid({field})"),
        other => format!("{other:?}"),
    }
}

fn show<T: std::fmt::Debug>(r: Result<T, StorageError>) -> String {
    match r {
        Ok(v) => format!("Ok({v:?})"),
        Err(e) => format!("Err({})", err(&e)),
    }
}

async fn apply(s: &dyn Store, clock: &ManualClock, ids: &Ids, op: &Op) -> String {
    let nil = UserId(uuid::Uuid::nil());
    let u = |i: u8| pick(&ids.users, i, nil);
    let p = |i: u8| pick(&ids.posts, i, PostId(uuid::Uuid::nil()));
    let c = |i: u8| pick(&ids.comments, i, CommentId(uuid::Uuid::nil()));
    let limit = |l: u8| usize::from(l);
    match *op {
        Op::CreateUser(n) => show(
            s.create_user(NewUser::new(
                format!("User{n}"),
                format!("user{n}@x.io"),
                "h",
            ))
            .await,
        ),
        Op::UpdateUser(a, b, bio) => {
            let patch = UserPatch {
                display_name: Some(format!("Name {b}")),
                bio: Some(bio.then(|| "bio".to_owned())),
                username: (b % 5 == 0).then(|| format!("user{}", b % 8)),
                ..UserPatch::default()
            };
            show(s.update_user(u(a), patch).await)
        }
        Op::DeleteUser(a) => show(s.delete_user(u(a)).await),
        Op::CreatePost(a, t, v) => {
            let visibility = match v % 3 {
                0 => Visibility::Public,
                1 => Visibility::Followers,
                _ => Visibility::Private,
            };
            let new = NewPost {
                visibility,
                ..NewPost::text(u(a), TEXTS[usize::from(t) % TEXTS.len()])
            };
            show(s.create_post(new).await)
        }
        Op::UpdatePost(a, t) => {
            let patch = PostPatch {
                content: Some(TEXTS[usize::from(t) % TEXTS.len()].to_owned()),
                ..PostPatch::default()
            };
            show(s.update_post(p(a), patch).await)
        }
        Op::DeletePost(a) => show(s.delete_post(p(a)).await),
        Op::Follow(a, b) => show(s.follow(u(a), u(b)).await),
        Op::Unfollow(a, b) => show(s.unfollow(u(a), u(b)).await),
        Op::Like(a, b) => show(s.like(u(a), p(b)).await),
        Op::Unlike(a, b) => show(s.unlike(u(a), p(b)).await),
        Op::Comment(a, b, parent) => {
            let new = NewComment {
                post: p(a),
                author: u(b),
                parent: parent.map(c),
                content: "nice".into(),
            };
            show(s.add_comment(new).await)
        }
        Op::DeleteComment(a) => show(s.delete_comment(c(a)).await),
        Op::ListPosts(a, l) => show(s.posts_by_author(u(a), &Seek::first(limit(l))).await),
        Op::FilteredPosts(a, b, asc, l) => {
            // Viewer anonymous for a multiple of 5, one author for a multiple of 3.
            let mut q = keel_storage::PostQuery::all().seen_by((a % 5 != 0).then(|| u(a)));
            if b % 3 == 0 {
                q = q.by(u(b));
            }
            if asc {
                q = q.oldest_first();
            }
            show(s.list_posts(&q, &Seek::first(limit(l))).await)
        }
        Op::Followers(a, l) => show(s.followers(u(a), &Seek::first(limit(l))).await),
        Op::Following(a, l) => show(s.following(u(a), &Seek::first(limit(l))).await),
        Op::Comments(a, l) => show(s.comments(p(a), None, &Seek::first(limit(l))).await),
        Op::Prefix(a, l) => {
            let prefix = ["", "u", "USER1", "x"][usize::from(a)];
            show(s.users_by_prefix(prefix, &Seek::first(limit(l))).await)
        }
        Op::Search(a) => {
            // Ranking formulas differ (ts_rank vs the inverted index): compare the matches.
            let q = ["rust", "words", "tokio go", "nothing"][usize::from(a)];
            let r = s.search_posts(q, &Seek::first(200)).await.map(|w| {
                let mut ids: Vec<PostId> = w.items.iter().map(|h| h.item.id).collect();
                ids.sort();
                ids
            });
            show(r)
        }
        Op::Tick(n) => {
            clock.advance_micros(i64::from(n) * 1_000);
            "tick".into()
        }
    }
}

fn record(ids: &mut Ids, out: &str, op: &Op) {
    // Learn new ids from the memory store's successful creations.
    let grab = |out: &str| -> Option<uuid::Uuid> {
        let start = out.find("id: ")? + 4;
        let rest = &out[start..];
        let open = rest.find('(')? + 1;
        uuid::Uuid::parse_str(rest.get(open..open + 36)?).ok()
    };
    if !out.starts_with("Ok(") {
        return;
    }
    match op {
        Op::CreateUser(_) => ids.users.extend(grab(out).map(UserId)),
        Op::CreatePost(..) => ids.posts.extend(grab(out).map(PostId)),
        Op::Comment(..) => ids.comments.extend(grab(out).map(CommentId)),
        _ => {}
    }
}

async fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let start = Timestamp::from_millis(1_700_000_000_000);
    let mem_clock = Arc::new(ManualClock::new(start));
    let pg_clock = Arc::new(ManualClock::new(start));
    let mem = MemoryStore::with_clock(mem_clock.clone(), IdGenerator::seeded(7));
    let Some((pg, url, schema)) = crate::postgres::store("storage_diff", pg_clock.clone()).await
    else {
        return Ok(());
    };
    let mut ids = Ids::default();
    for (n, op) in ops.iter().enumerate() {
        let a = apply(&mem, &mem_clock, &ids, op).await;
        let b = apply(&pg, &pg_clock, &ids, op).await;
        prop_assert_eq!(&a, &b, "op {} {:?}", n, op);
        record(&mut ids, &a, op);
    }
    let lease = Duration::from_secs(60);
    let a = mem.claim_outbox(1000, lease).await.unwrap();
    let b = pg.claim_outbox(1000, lease).await.unwrap();
    prop_assert_eq!(a, b, "outbox");
    pg.pool().close().await;
    crate::postgres::drop_schema(url, schema).await;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 24,
        max_shrink_iters: 64,
        ..ProptestConfig::default()
    })]

    #[test]
    fn memory_and_postgres_agree(ops in proptest::collection::vec(op(), 1..60)) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(run(ops))?;
    }
}

#[cfg(feature = "sharded")]
mod sharded;
