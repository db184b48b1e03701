//! Checkout sessions and order-number mappings in Redis.
//!
//! A session is one hash (`keys::checkout`): `state` (the [`Session`] JSON the
//! checkout API edits), `doc` (the rendered `pre_order` the hooks splice into
//! answers), `ptype` (payment type, `""` when none), `fp` (basket
//! fingerprint), `card` (the installment card object, `""` when none), `ivr`
//! (the IVR product-list fragment) and `ver` (for compare-and-set writes).
//! An order number maps to `"{session_id}:{fingerprint}"` for exactly 24 h.

use super::model::{card_json, Session};
use crate::context::AppContext;
use crate::hooks::lockout::{self, Subjects};
use redis::{AsyncCommands, Script};
use std::sync::LazyLock;

/// Sessions expire after 7 days without use.
pub const SESSION_IDLE_SECONDS: u64 = 7 * 24 * 3600;

/// Order-number mappings live exactly this long.
pub const ORDER_NUMBER_TTL_SECONDS: u64 = 24 * 3600;

/// Writes a session only if nobody wrote it since it was read.
static SAVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"local cur = redis.call('HGET', KEYS[1], 'ver') or ''
          if cur ~= ARGV[1] then return 0 end
          redis.call('HSET', KEYS[1], 'ver', ARGV[2], unpack(ARGV, 4))
          redis.call('EXPIRE', KEYS[1], ARGV[3])
          return 1",
    )
});

/// The hooks' one round trip: login lockout, then order number → session →
/// the asked fields. KEYS: mapping, user and address failure counters; ARGV:
/// checkout key prefix, user limit, address limit, fields. Answers `{"L"}`
/// (locked out), `{"0"}` (number unknown), `{"1"}` (session gone) or
/// `{"2", session_id, fingerprint_at_issue, ptype, fp, field...}`.
static LOOKUP: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"if tonumber(redis.call('GET', KEYS[2]) or '0') >= tonumber(ARGV[2])
             or tonumber(redis.call('GET', KEYS[3]) or '0') >= tonumber(ARGV[3]) then return {'L'} end
          local m = redis.call('GET', KEYS[1])
          if not m then return {'0'} end
          local sep = string.find(m, ':', 1, true)
          local sid = string.sub(m, 1, sep - 1)
          local fields = {'ptype', 'fp'}
          for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
          local s = redis.call('HMGET', ARGV[1] .. sid, unpack(fields))
          if not s[1] then return {'1'} end
          local out = {'2', sid, string.sub(m, sep + 1)}
          for i = 1, #s do out[#out + 1] = s[i] or '' end
          return out",
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
        .arg(expected_version)
        .arg(&new_version)
        .arg(SESSION_IDLE_SECONDS)
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

/// The session's payment type and basket fingerprint, if it exists.
pub async fn meta(ctx: &AppContext, session_id: &str) -> redis::RedisResult<Option<(String, String)>> {
    if !valid_session_id(session_id) {
        return Ok(None);
    }
    let mut redis = ctx.redis();
    let (ptype, fp): (Option<String>, Option<String>) = redis::cmd("HMGET").arg(ctx.keys.checkout(session_id)).arg("ptype").arg("fp").query_async(&mut redis).await?;
    Ok(ptype.zip(fp))
}

/// Registers `order_number` → session with the basket fingerprint, for exactly 24 h.
pub async fn register_order_number(ctx: &AppContext, order_number: &str, session_id: &str, fingerprint: &str) -> redis::RedisResult<()> {
    let mut redis = ctx.redis();
    redis
        .set_ex::<_, _, ()>(ctx.keys.order_number(order_number), format!("{session_id}:{fingerprint}"), ORDER_NUMBER_TTL_SECONDS)
        .await
}

/// Drops a paid pre-order: its session, and its order number if it still points there.
pub async fn forget(ctx: &AppContext, order_number: &str, session_id: &str) -> redis::RedisResult<()> {
    let mut redis = ctx.redis();
    redis::pipe()
        .del(ctx.keys.checkout(session_id))
        .del(ctx.keys.order_number(order_number))
        .query_async::<()>(&mut redis)
        .await
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

/// Checks the login lockout, looks `order_number` up and reads `fields` of
/// its session, in one round trip.
pub async fn lookup(ctx: &AppContext, order_number: &str, login: &Subjects, fields: &[&str]) -> redis::RedisResult<Lookup> {
    let mut redis = ctx.redis();
    let mut invocation = LOOKUP.key(ctx.keys.order_number(order_number));
    invocation
        .key(&login.user_key)
        .key(&login.address_key)
        .arg(ctx.keys.checkout_prefix())
        .arg(lockout::MAX_FAILURES_PER_USER)
        .arg(lockout::MAX_FAILURES_PER_ADDRESS);
    for f in fields {
        invocation.arg(*f);
    }
    let mut reply: Vec<String> = invocation.invoke_async(&mut redis).await?;
    Ok(match reply.first().map(String::as_str) {
        Some("2") if reply.len() == 5 + fields.len() => {
            let fields = reply.split_off(5);
            let mut it = reply.into_iter().skip(1);
            let mut next = || it.next().unwrap_or_default();
            Found {
                session_id: next(),
                fingerprint_at_issue: next(),
                payment_type: next(),
                fingerprint_now: next(),
                fields,
            }
            .into()
        }
        Some("1") => Lookup::SessionGone,
        Some("L") => Lookup::LockedOut,
        _ => Lookup::NotInCache,
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
