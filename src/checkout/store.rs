//! Checkout sessions and order-number mappings in Redis.
//!
//! A session is one hash (`keys::checkout`): `state` (the [`Session`] JSON the
//! checkout API edits), `doc` (the rendered `pre_order` the hooks splice into
//! answers), `ptype` (payment type, `""` when none), `fp` (basket
//! fingerprint), `card` (the installment card object, `""` when none), `ivr`
//! (the IVR product-list fragment) and `ver` (for compare-and-set writes).
//!
//! An order number is a hash of its own (`keys::order_number`), alive for
//! exactly 24 h: `sid` and `fp0` (the session and its basket fingerprint when
//! the number was issued) beside a mirror of the session's rendered fields.
//! Every session write updates the mirrors of its live numbers in the same
//! script (`keys::checkout_numbers` lists them), and paying a session strips
//! the mirrors of its other numbers, so the hooks read everything about an
//! order number with one `HMGET` of one key: one round trip, and no pre-order
//! bytes pushed through Lua, which costs Redis several times a plain read.

use super::model::{card_json, Session};
use crate::context::AppContext;
use crate::lockouts::Login;
use redis::{AsyncCommands, Script};
use std::sync::LazyLock;

/// Sessions expire after 7 days without use.
pub const SESSION_IDLE_SECONDS: u64 = 7 * 24 * 3600;

/// Order-number mappings live exactly this long.
pub const ORDER_NUMBER_TTL_SECONDS: u64 = 24 * 3600;

/// The session fields an order number mirrors.
const MIRRORED: [&str; 6] = ["state", "doc", "ptype", "fp", "card", "ivr"];

/// Writes a session only if nobody wrote it since it was read, and brings the
/// mirrors of its live order numbers up to date. KEYS: session, its numbers
/// set; ARGV: expected version, new version, idle seconds, order-number key
/// prefix, then field/value pairs.
static SAVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"local cur = redis.call('HGET', KEYS[1], 'ver') or ''
          if cur ~= ARGV[1] then return 0 end
          redis.call('HSET', KEYS[1], 'ver', ARGV[2], unpack(ARGV, 5))
          redis.call('EXPIRE', KEYS[1], ARGV[3])
          for _, n in ipairs(redis.call('SMEMBERS', KEYS[2])) do
            local key = ARGV[4] .. n
            if redis.call('EXISTS', key) == 1 then
              redis.call('HSET', key, unpack(ARGV, 5))
            else
              redis.call('SREM', KEYS[2], n)
            end
          end
          return 1",
    )
});

/// Issues an order number for a session: the number's hash gets the session
/// id, the fingerprint now and a mirror of the session, for exactly 24 h.
/// KEYS: session, order number, the session's numbers set; ARGV: the order
/// number, the session id, its lifetime, the session's idle lifetime,
/// mirrored field names (`fp` fourth). Answers 0 when the session is gone,
/// 2 when the number is live already (a sequence rewound by a database
/// failover draws numbers again): a live mapping is never overwritten.
static REGISTER: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"if redis.call('EXISTS', KEYS[2]) == 1 then return 2 end
          local names = {unpack(ARGV, 5)}
          local values = redis.call('HMGET', KEYS[1], unpack(names))
          if not values[1] then return 0 end
          local fields = {'sid', ARGV[2], 'fp0', values[4] or ''}
          for i = 1, #names do
            fields[#fields + 1] = names[i]
            fields[#fields + 1] = values[i] or ''
          end
          redis.call('HSET', KEYS[2], unpack(fields))
          redis.call('EXPIRE', KEYS[2], ARGV[3])
          redis.call('SADD', KEYS[3], ARGV[1])
          redis.call('EXPIRE', KEYS[3], ARGV[3])
          redis.call('EXPIRE', KEYS[1], ARGV[4])
          return 1",
    )
});

/// Drops paid sessions: each session, its paid number, and the mirrors of its
/// other numbers (which then answer "session gone"). KEYS: per paid pre-order
/// its session, paid number and numbers set; ARGV: order-number key prefix,
/// mirrored field names.
static FORGET: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"for i = 1, #KEYS, 3 do
            for _, n in ipairs(redis.call('SMEMBERS', KEYS[i + 2])) do
              redis.call('HDEL', ARGV[1] .. n, unpack(ARGV, 2))
            end
            redis.call('DEL', KEYS[i], KEYS[i + 1], KEYS[i + 2])
          end
          return 1",
    )
});

/// A session as read, with the version a write must match.
pub struct Loaded {
    pub session: Session,
    pub version: String,
}

/// Session ids are 32 lowercase hex characters; anything else names no session.
pub fn valid_session_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

pub async fn load(ctx: &AppContext, session_id: &str) -> redis::RedisResult<Option<Loaded>> {
    if !valid_session_id(session_id) {
        return Ok(None);
    }
    let mut redis = ctx.redis();
    let (state, version): (Option<String>, Option<String>) = redis::cmd("HMGET").arg(ctx.keys.checkout(session_id)).arg("state").arg("ver").query_async(&mut redis).await?;
    Ok(match (state.and_then(|s| serde_json::from_str::<Session>(&s).ok()), version) {
        (Some(session), Some(version)) => Some(Loaded { session, version }),
        _ => None,
    })
}

/// Keeps an idle session alive for another 7 days.
pub async fn touch(ctx: &AppContext, session_id: &str) -> redis::RedisResult<()> {
    let mut redis = ctx.redis();
    redis.expire::<_, ()>(ctx.keys.checkout(session_id), SESSION_IDLE_SECONDS as i64).await
}

/// Writes `session` (and everything rendered from it) if its stored version
/// is still `expected_version` (`""` for a new session). Answers false when
/// another write came first.
pub async fn save(ctx: &AppContext, session: &Session, expected_version: &str) -> redis::RedisResult<bool> {
    let state = serde_json::to_string(session).map_err(json_error)?;
    let doc = serde_json::to_string(&session.pre_order()).map_err(json_error)?;
    let card = session.installment.as_ref().map(|i| card_json(&i.card).to_string()).unwrap_or_default();
    let new_version = uuid::Uuid::new_v4().simple().to_string();
    let mut redis = ctx.redis();
    let saved: i64 = SAVE
        .key(ctx.keys.checkout(&session.id))
        .key(ctx.keys.checkout_numbers(&session.id))
        .arg(expected_version)
        .arg(&new_version)
        .arg(SESSION_IDLE_SECONDS)
        .arg(ctx.keys.order_number_prefix())
        .arg("state")
        .arg(state)
        .arg("doc")
        .arg(doc)
        .arg("ptype")
        .arg(session.payment_type())
        .arg("fp")
        .arg(session.basket_fingerprint())
        .arg("card")
        .arg(card)
        .arg("ivr")
        .arg(session.ivr_fragment())
        .invoke_async(&mut redis)
        .await?;
    Ok(saved == 1)
}

fn json_error(err: serde_json::Error) -> redis::RedisError {
    redis::RedisError::from((redis::ErrorKind::Client, "session serialization", err.to_string()))
}

/// The session's payment type (`""` when none), if the session exists.
pub async fn payment_type(ctx: &AppContext, session_id: &str) -> redis::RedisResult<Option<String>> {
    if !valid_session_id(session_id) {
        return Ok(None);
    }
    let mut redis = ctx.redis();
    redis.hget(ctx.keys.checkout(session_id), "ptype").await
}

/// What registering an order number did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    Registered,
    SessionGone,
    /// The number is live for some pre-order already; nothing was written.
    NumberTaken,
}

/// Registers `order_number` for the session, with the basket as it is now,
/// for exactly 24 h, unless the number is live already.
pub async fn register_order_number(ctx: &AppContext, order_number: &str, session_id: &str) -> redis::RedisResult<Registration> {
    let mut redis = ctx.redis();
    let mut invocation = REGISTER.key(ctx.keys.checkout(session_id));
    invocation
        .key(ctx.keys.order_number(order_number))
        .key(ctx.keys.checkout_numbers(session_id))
        .arg(order_number)
        .arg(session_id)
        .arg(ORDER_NUMBER_TTL_SECONDS)
        .arg(SESSION_IDLE_SECONDS)
        .arg(&MIRRORED[..]);
    let registered: i64 = invocation.invoke_async(&mut redis).await?;
    Ok(match registered {
        1 => Registration::Registered,
        2 => Registration::NumberTaken,
        _ => Registration::SessionGone,
    })
}

/// Drops paid pre-orders, each given as (order number, session id): the
/// session and that number go; the session's other numbers then answer
/// "session gone".
pub async fn forget(ctx: &AppContext, paid: &[(&str, &str)]) -> redis::RedisResult<()> {
    if paid.is_empty() {
        return Ok(());
    }
    let mut redis = ctx.redis();
    let mut invocation = FORGET.prepare_invoke();
    for (order_number, session_id) in paid {
        invocation
            .key(ctx.keys.checkout(session_id))
            .key(ctx.keys.order_number(order_number))
            .key(ctx.keys.checkout_numbers(session_id));
    }
    invocation.arg(ctx.keys.order_number_prefix()).arg(&MIRRORED[..]);
    invocation.invoke_async::<()>(&mut redis).await
}

/// What the Redis lookup of an order number found.
pub enum Lookup {
    LockedOut,
    NotInCache,
    SessionGone,
    Found(Found),
}

/// A registered order number whose session still exists.
pub struct Found {
    pub session_id: String,
    pub fingerprint_at_issue: String,
    pub payment_type: String,
    pub fingerprint_now: String,
    /// The asked fields, in the order asked.
    pub fields: Vec<String>,
}

/// How many of the caller's lock keys exist, then the number's hash fields.
type LookupReply = (i64, Vec<Option<String>>);

/// Reads whether the caller is locked out and `order_number`'s hash (its
/// session, fingerprints, payment type and the asked mirrored `fields`) in
/// one round trip of two plain reads.
pub async fn lookup(ctx: &AppContext, order_number: &str, login: &Login, fields: &[&str]) -> redis::RedisResult<Lookup> {
    let mut redis = ctx.redis();
    let (locks, mut values): LookupReply = redis::pipe()
        .cmd("EXISTS")
        .arg(login.lock_keys(ctx))
        .cmd("HMGET")
        .arg(ctx.keys.order_number(order_number))
        .arg(&["sid", "fp0", "ptype", "fp"])
        .arg(fields)
        .query_async(&mut redis)
        .await?;
    if locks > 0 {
        return Ok(Lookup::LockedOut);
    }
    if values.len() != 4 + fields.len() {
        return Err(redis::RedisError::from((redis::ErrorKind::Client, "unexpected HMGET reply length")));
    }
    let asked: Vec<String> = values.split_off(4).into_iter().map(Option::unwrap_or_default).collect();
    let mut meta = values.into_iter();
    let mut next = || meta.next().flatten();
    let (session_id, fingerprint_at_issue, payment_type, fingerprint_now) = (next(), next(), next(), next());
    Ok(match (session_id, fingerprint_at_issue, payment_type, fingerprint_now) {
        (None, ..) => Lookup::NotInCache,
        (Some(session_id), Some(fingerprint_at_issue), Some(payment_type), Some(fingerprint_now)) => {
            Found { session_id, fingerprint_at_issue, payment_type, fingerprint_now, fields: asked }.into()
        }
        _ => Lookup::SessionGone,
    })
}

impl Found {
    /// True when the basket differs from when the order number was issued.
    pub fn basket_changed(&self) -> bool {
        self.fingerprint_at_issue != self.fingerprint_now
    }
}

impl From<Found> for Lookup {
    fn from(found: Found) -> Self {
        Lookup::Found(found)
    }
}
