//! Authentication: argon2id passwords behind a concurrency cap ([`password`]), strict HS256
//! access tokens ([`jwt`]), revocable refresh tokens and hashed API keys ([`tokens`]), and the
//! extractors handlers use ([`extract`]).

pub mod extract;
pub mod jwt;
pub mod password;
pub mod tokens;

pub use extract::{AuthUser, MaybeUser};
pub use jwt::{Claims, JwtError, JwtSigner, Tier};
pub use password::{PasswordError, PasswordHasher};
pub use tokens::TokenStore;
