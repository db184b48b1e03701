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
//!
//! A session and its numbers share one hash slot (see `keys.rs`), and every
//! script is given every key it touches, so all of this runs unchanged on a
//! Redis Cluster. Scripts that walk a session's numbers are handed the
//! numbers read just before and check that the set still holds exactly
//! those; when it changed in between they refuse, and the caller reads again.

use super::model::{CardView, Session};
use crate::context::AppContext;
use crate::lockouts::Login;
use crate::order_number::OrderNumber;
use futures_util::future::{join, try_join_all};
use redis::{AsyncCommands, Script};
use std::sync::LazyLock;

/// Sessions expire after 7 days without use.
pub const SESSION_IDLE_SECONDS: u64 = 7 * 24 * 3600;

/// Order-number mappings live exactly this long (`ORDER_NUMBER_TTL_SECONDS`
/// in the environment may shorten it, for tests and drills).
pub const ORDER_NUMBER_TTL_SECONDS: u64 = 24 * 3600;

/// The session fields an order number mirrors.
const MIRRORED: [&str; 6] = ["state", "doc", "ptype", "fp", "card", "ivr"];

/// Writes a session only if nobody wrote it since it was read (nor issued it
/// a number), and brings the mirrors of its live order numbers up to date.
/// KEYS: session, its numbers set, then the key of each number in the set;
/// ARGV: expected version, new version, idle seconds, the count of numbers,
/// the numbers, then field/value pairs.
static SAVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"local cur = redis.call('HGET', KEYS[1], 'ver') or ''
          if cur ~= ARGV[1] then return 0 end
          local n = tonumber(ARGV[4])
          if redis.call('SCARD', KEYS[2]) ~= n then return 0 end
          for i = 1, n do
            if redis.call('SISMEMBER', KEYS[2], ARGV[4 + i]) == 0 then return 0 end
          end
          redis.call('HSET', KEYS[1], 'ver', ARGV[2], unpack(ARGV, 5 + n))
          redis.call('EXPIRE', KEYS[1], ARGV[3])
          for i = 1, n do
            if redis.call('EXISTS', KEYS[2 + i]) == 1 then
              redis.call('HSET', KEYS[2 + i], unpack(ARGV, 5 + n))
            else
              redis.call('SREM', KEYS[2], ARGV[4 + i])
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
/// -1 when the number's key exists already: a live mapping is never
/// overwritten (a sequence rewound by a database failover draws numbers
/// again), the caller draws another number.
static REGISTER: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"local names = {unpack(ARGV, 5)}
          local values = redis.call('HMGET', KEYS[1], unpack(names))
          if not values[1] then return 0 end
          if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
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

/// Drops a paid session: the session, its numbers set and the paid number
/// go, and its other numbers lose their mirror (they then answer "session
/// gone"). KEYS: session, numbers set, the key of each number in the set,
/// then (when known) the paid number's key; ARGV: the count of numbers, the
/// numbers, mirrored field names. Answers 0, changing nothing, when the set
/// no longer holds exactly the given numbers.
static FORGET: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"local n = tonumber(ARGV[1])
          if redis.call('SCARD', KEYS[2]) ~= n then return 0 end
          for i = 1, n do
            if redis.call('SISMEMBER', KEYS[2], ARGV[1 + i]) == 0 then return 0 end
          end
          for i = 1, n do
            redis.call('HDEL', KEYS[2 + i], unpack(ARGV, 2 + n))
          end
          redis.call('DEL', KEYS[1], KEYS[2])
          if #KEYS > 2 + n then redis.call('DEL', KEYS[3 + n]) end
          return 1",
    )
});

/// A session as read, with the version a write must match and the order
/// numbers it had (a write brings their mirrors up to date).
pub struct Loaded {
    pub session: Session,
    pub version: String,
    pub numbers: Vec<OrderNumber>,
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
    // One round trip: the session and its numbers set share a slot.
    let ((state, version), numbers): ((Option<String>, Option<String>), Vec<String>) = redis::pipe()
        .cmd("HMGET")
        .arg(ctx.keys.checkout(session_id))
        .arg(&["state", "ver"])
        .smembers(ctx.keys.checkout_numbers(session_id))
        .query_async(&mut redis)
        .await?;
    Ok(match (state.and_then(|s| serde_json::from_str::<Session>(&s).ok()), version) {
        (Some(session), Some(version)) => Some(Loaded { session, version, numbers: parse_numbers(numbers) }),
        _ => None,
    })
}

/// The numbers of a session's set (every member was issued, so parses).
fn parse_numbers(members: Vec<String>) -> Vec<OrderNumber> {
    members.iter().filter_map(|n| OrderNumber::parse(n)).collect()
}

/// Keeps an idle session alive for another 7 days.
pub async fn touch(ctx: &AppContext, session_id: &str) -> redis::RedisResult<()> {
    let mut redis = ctx.redis();
    redis.expire::<_, ()>(ctx.keys.checkout(session_id), SESSION_IDLE_SECONDS as i64).await
}

/// Writes `session` (and everything rendered from it) if its stored version
/// is still `expected_version` (`""` for a new session) and it still has
/// exactly `numbers` (as loaded). Answers false when another write, or an
/// issued number, came first.
pub async fn save(
    ctx: &AppContext,
    session: &Session,
    expected_version: &str,
    numbers: &[OrderNumber],
) -> redis::RedisResult<bool> {
    let state = serde_json::to_string(session).map_err(json_error)?;
    let doc = serde_json::to_string(&session.pre_order()).map_err(json_error)?;
    let card = match &session.installment {
        Some(i) => serde_json::to_string(&CardView::of(&i.card)).map_err(json_error)?,
        None => String::new(),
    };
    let new_version = uuid::Uuid::new_v4().simple().to_string();
    let mut redis = ctx.redis();
    let mut invocation = SAVE.key(ctx.keys.checkout(&session.id));
    invocation.key(ctx.keys.checkout_numbers(&session.id));
    for number in numbers {
        invocation.key(ctx.keys.order_number(number));
    }
    invocation.arg(expected_version).arg(&new_version).arg(SESSION_IDLE_SECONDS).arg(numbers.len());
    for number in numbers {
        invocation.arg(number.as_str());
    }
    let saved: i64 = invocation
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

/// The session's payment type (`""` when none) and the session itself, if
/// it exists: what issuing an order number records (one round trip).
pub async fn issue_facts(ctx: &AppContext, session_id: &str) -> redis::RedisResult<Option<(String, Session)>> {
    if !valid_session_id(session_id) {
        return Ok(None);
    }
    let mut redis = ctx.redis();
    let (payment_type, state): (Option<String>, Option<String>) =
        redis::cmd("HMGET").arg(ctx.keys.checkout(session_id)).arg(&["ptype", "state"]).query_async(&mut redis).await?;
    let session = state.and_then(|s| serde_json::from_str::<Session>(&s).ok());
    Ok(payment_type.zip(session))
}

/// What registering an order number did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Registered {
    Registered,
    SessionGone,
    /// The number's key exists already (a live mapping, left untouched).
    NumberTaken,
}

/// Registers `order_number` for the session, with the basket as it is now,
/// for exactly 24 h, unless the session is gone or the number is taken.
pub async fn register_order_number(
    ctx: &AppContext,
    order_number: &OrderNumber,
    session_id: &str,
) -> redis::RedisResult<Registered> {
    let mut redis = ctx.redis();
    let mut invocation = REGISTER.key(ctx.keys.checkout(session_id));
    invocation
        .key(ctx.keys.order_number(order_number))
        .key(ctx.keys.checkout_numbers(session_id))
        .arg(order_number.as_str())
        .arg(session_id)
        .arg(ctx.config.order_number_ttl_seconds)
        .arg(SESSION_IDLE_SECONDS)
        .arg(&MIRRORED[..]);
    Ok(match invocation.invoke_async::<i64>(&mut redis).await? {
        1 => Registered::Registered,
        -1 => Registered::NumberTaken,
        _ => Registered::SessionGone,
    })
}

/// Removes a cancelled number's mapping and its place in its session's
/// numbers set (one slot). KEYS: the number, the session's numbers set; ARGV: the number.
static DROP_NUMBER: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"redis.call('DEL', KEYS[1])
          redis.call('SREM', KEYS[2], ARGV[1])
          return 1",
    )
});

/// Drops the mapping of `order_number` (cancelled in Postgres already): every hook then answers not found.
pub async fn drop_order_number(
    ctx: &AppContext,
    order_number: &OrderNumber,
    session_id: &str,
) -> redis::RedisResult<()> {
    let mut redis = ctx.redis();
    DROP_NUMBER
        .key(ctx.keys.order_number(order_number))
        .key(ctx.keys.checkout_numbers(session_id))
        .arg(order_number.as_str())
        .invoke_async::<i64>(&mut redis)
        .await?;
    Ok(())
}

/// How often dropping a session is tried while numbers are being issued to it.
const FORGET_ATTEMPTS: usize = 5;

/// Drops paid pre-orders, each given as (order number, session id): the
/// session and that number go; the session's other numbers then answer
/// "session gone". Sessions live in different slots, so each is its own
/// script call; the calls go out together (one round trip to read the
/// numbers sets, one to run the scripts).
pub async fn forget(ctx: &AppContext, paid: &[(&str, &str)]) -> redis::RedisResult<()> {
    try_join_all(
        paid.iter().map(|&(order_number, session_id)| forget_one(ctx, OrderNumber::parse(order_number), session_id)),
    )
    .await?;
    Ok(())
}

async fn forget_one(ctx: &AppContext, paid: Option<OrderNumber>, session_id: &str) -> redis::RedisResult<()> {
    let mut redis = ctx.redis();
    for _ in 0..FORGET_ATTEMPTS {
        let members: Vec<String> = redis.smembers(ctx.keys.checkout_numbers(session_id)).await?;
        let numbers = parse_numbers(members);
        let mut invocation = FORGET.key(ctx.keys.checkout(session_id));
        invocation.key(ctx.keys.checkout_numbers(session_id));
        for number in &numbers {
            invocation.key(ctx.keys.order_number(number));
        }
        if let Some(paid) = &paid {
            invocation.key(ctx.keys.order_number(paid));
        }
        invocation.arg(numbers.len());
        for number in &numbers {
            invocation.arg(number.as_str());
        }
        invocation.arg(&MIRRORED[..]);
        if invocation.invoke_async::<i64>(&mut redis).await? == 1 {
            return Ok(());
        }
    }
    Err(redis::RedisError::from((redis::ErrorKind::Client, "session numbers kept changing while it was dropped")))
}

/// What the Redis lookup of an order number found.
pub enum Lookup {
    LockedOut,
    NotInCache,
    SessionGone,
    Found(Found),
}

/// A mirrored session field a look-up may read beside the number's metadata.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mirror {
    /// The `Session` JSON (to pay: promotions, amounts, staff).
    State,
    /// The rendered `pre_order` document.
    Doc,
    /// The installment card object (`""` when none).
    Card,
    /// The IVR product-list fragment.
    Ivr,
}

impl Mirror {
    fn field(self) -> &'static str {
        match self {
            Mirror::State => "state",
            Mirror::Doc => "doc",
            Mirror::Card => "card",
            Mirror::Ivr => "ivr",
        }
    }
}

/// A registered order number whose session still exists, with the mirrored
/// fields the look-up asked for (`None` for those it did not).
pub struct Found {
    pub session_id: String,
    pub fingerprint_at_issue: String,
    pub payment_type: String,
    pub fingerprint_now: String,
    pub state: Option<String>,
    pub doc: Option<String>,
    pub card: Option<String>,
    pub ivr: Option<String>,
}

/// The number's hash fields: session, both fingerprints, payment type, then the asked ones.
type NumberFields = Vec<Option<String>>;

/// Reads whether the caller is locked out and `order_number`'s hash (its
/// session, fingerprints, payment type and the `wanted` mirrored fields) in
/// one round trip of two plain reads: one pipeline on a single server; on a
/// cluster, where the two live in different slots, two requests sent together.
pub async fn lookup(
    ctx: &AppContext,
    order_number: &OrderNumber,
    login: &Login,
    wanted: &[Mirror],
) -> redis::RedisResult<Lookup> {
    let mut redis = ctx.redis();
    let number_key = ctx.keys.order_number(order_number);
    let mut number = redis::cmd("HMGET");
    number.arg(&number_key).arg(&["sid", "fp0", "ptype", "fp"]);
    for mirror in wanted {
        number.arg(mirror.field());
    }
    let (locks, lock_slot) = login.lock_read(ctx);
    let (locks, mut values): (i64, NumberFields) = if redis.is_cluster() {
        let mut second = redis.clone();
        let (locks, values) =
            join(redis.query_in_slot_of(locks, &lock_slot), second.query_in_slot_of(number, &number_key)).await;
        (locks?, values?)
    } else {
        redis::pipe().add_command(locks).add_command(number).query_async(&mut redis).await?
    };
    if locks > 0 {
        return Ok(Lookup::LockedOut);
    }
    if values.len() != 4 + wanted.len() {
        return Err(redis::RedisError::from((redis::ErrorKind::Client, "unexpected HMGET reply length")));
    }
    let mut asked = values.split_off(4);
    // Moved out, not copied: `doc` is the whole pre-order.
    let mut mirrored = |mirror: Mirror| {
        let at = wanted.iter().position(|w| *w == mirror)?;
        Some(asked[at].take().unwrap_or_default())
    };
    let mut meta = values.into_iter();
    let mut next = || meta.next().flatten();
    let (session_id, fingerprint_at_issue, payment_type, fingerprint_now) = (next(), next(), next(), next());
    Ok(match (session_id, fingerprint_at_issue, payment_type, fingerprint_now) {
        (None, ..) => Lookup::NotInCache,
        (Some(session_id), Some(fingerprint_at_issue), Some(payment_type), Some(fingerprint_now)) => Found {
            session_id,
            fingerprint_at_issue,
            payment_type,
            fingerprint_now,
            state: mirrored(Mirror::State),
            doc: mirrored(Mirror::Doc),
            card: mirrored(Mirror::Card),
            ivr: mirrored(Mirror::Ivr),
        }
        .into(),
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
