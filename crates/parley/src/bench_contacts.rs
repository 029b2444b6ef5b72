//! `parley bench contacts`: how fast prefix search answers on a large contact base. Fills an empty
//! database with realistic contacts (names from lists of first and last names, phones in +1, +44 and
//! +49, e-mails, some companies and tags) through `Store::create_contacts`, in batches as an import
//! writes them, then times `Store::search_contacts` for prefixes of 2 to 5 characters of names,
//! phone digits and e-mails drawn from the contacts written, a page of 50 each, as the console's
//! search box asks. The goal (issue 16): p99 at most 50 ms at 1,000,000 contacts on both engines.
//!
//! The data come from a fixed seed, so two runs fill the same contacts and ask the same queries.

use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use parley_core::crm::contact::{ContactData, ContactDraft, PhoneDraft, SearchQuery};
use parley_store::Store;

use crate::bench::ms;
use crate::rng::Rng;

/// What to fill and ask.
#[derive(Debug, Args)]
pub(crate) struct ContactsArgs {
    /// Contacts to create.
    #[arg(long, default_value_t = 1_000_000)]
    pub(crate) contacts: usize,
    /// Searches to time per kind (name, phone, e-mail).
    #[arg(long, default_value_t = 300)]
    pub(crate) queries: usize,
    /// Contacts per transaction while filling.
    #[arg(long, default_value_t = 1_000)]
    pub(crate) batch: usize,
    /// The database to fill [default: a fresh SQLite file in a temp dir, deleted afterwards]. A
    /// PostgreSQL database must hold no contacts yet: create a dedicated one (createdb
    /// parley_bench_contacts) and drop it afterwards; the bench refuses a database with contacts.
    #[arg(long, visible_alias = "database")]
    pub(crate) database_url: Option<String>,
    /// Search a database an earlier run filled with the same --contacts (the seed is fixed, so the
    /// same contacts are drawn again for the queries) instead of filling one: to measure again after
    /// a change of plan or statistics (PostgreSQL's ANALYZE) without waiting for the fill.
    #[arg(long)]
    pub(crate) reuse: bool,
    /// Hide the progress bar.
    #[arg(long)]
    pub(crate) quiet: bool,
}

const FIRST: [&str; 48] = [
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "William",
    "Elizabeth",
    "David",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Oliver",
    "Amelia",
    "Harry",
    "Isla",
    "George",
    "Ava",
    "Noah",
    "Emily",
    "Jack",
    "Sophie",
    "Leon",
    "Mia",
    "Paul",
    "Hannah",
    "Lukas",
    "Lena",
    "Finn",
    "Anna",
    "Jonas",
    "Lea",
    "Elias",
    "Marie",
    "Ada",
    "Grace",
    "Zoe",
    "Yusuf",
    "Priya",
    "Chen",
];

const LAST: [&str; 48] = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Wilson",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Walker",
    "Hall",
    "Evans",
    "Wright",
    "Roberts",
    "Green",
    "Hughes",
    "Edwards",
    "Clarke",
    "Turner",
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Koch",
    "Richter",
    "Lovelace",
    "Hopper",
    "Okafor",
    "Nguyen",
    "Kowalski",
    "Rossi",
    "Dubois",
    "Tanaka",
];

const COMPANIES: [&str; 12] = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Stark Industries",
    "Wayne Enterprises",
    "Soylent",
    "Vandelay Industries",
    "Cyberdyne",
    "Wonka",
    "Tyrell",
];

const DOMAINS: [&str; 8] = [
    "example.com",
    "example.org",
    "mail.example",
    "post.example",
    "web.example",
    "acme.example",
    "gmx.example",
    "t-online.example",
];

const TAGS: [&str; 8] = ["vip", "b2b", "newsletter", "churn-risk", "lead", "partner", "press", "supplier"];

/// A phone of one of the three countries, in the shape of its mobile numbers.
fn phone(rng: &mut Rng) -> String {
    match rng.below(3) {
        0 => format!("+1{}{}", 201 + rng.below(789), rng.digits(7)),
        1 => format!("+447{}", rng.digits(9)),
        _ => format!("+491{}{}", ["5", "6", "7"][rng.below(3)], rng.digits(8)),
    }
}

/// The `i`th contact.
fn contact(rng: &mut Rng, i: usize) -> ContactDraft {
    let (first, last) = (rng.pick(&FIRST), rng.pick(&LAST));
    let mut phones = vec![PhoneDraft { number: phone(rng), primary: true }];
    if rng.below(5) == 0 {
        phones.push(PhoneDraft { number: phone(rng), primary: false });
    }
    let email = (rng.below(10) < 8).then(|| {
        let local = format!("{first}.{last}{}", i % 1000).to_lowercase().replace('ü', "ue");
        format!("{local}@{}", rng.pick(&DOMAINS))
    });
    let company = (rng.below(10) < 4).then(|| rng.pick(&COMPANIES).to_owned());
    let tags = (0..rng.below(3)).map(|_| rng.pick(&TAGS).to_owned()).collect();
    ContactDraft { name: Some(format!("{first} {last}")), phones, email, company, tags, ..ContactDraft::default() }
}

/// What a search is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Name,
    Phone,
    Email,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::Name, Kind::Phone, Kind::Email];

    fn as_str(self) -> &'static str {
        match self {
            Kind::Name => "name",
            Kind::Phone => "phone",
            Kind::Email => "e-mail",
        }
    }

    /// A prefix of 2 to 5 characters of what `data` has of this kind, as a user types it.
    fn prefix(self, data: &ContactData, rng: &mut Rng) -> Option<String> {
        let text = match self {
            Kind::Name => data.name.clone()?,
            Kind::Phone => data.phones.first()?.number.as_str().trim_start_matches('+').to_owned(),
            Kind::Email => data.email.clone()?,
        };
        Some(text.chars().take(2 + rng.below(4)).collect())
    }
}

pub(crate) async fn run(args: ContactsArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.contacts > 0 && args.queries > 0 && args.batch > 0,
        "contacts, queries and batch must be above 0"
    );
    let dir = tempfile::tempdir()?;
    let url =
        args.database_url.clone().unwrap_or_else(|| format!("sqlite://{}", dir.path().join("contacts.db").display()));
    let store = Store::connect(&url).await?;
    store.migrate().await?;
    anyhow::ensure!(
        args.reuse || store.contacts_for_export(None, 1).await?.is_empty(),
        "{} already holds contacts: the bench needs an empty database (createdb a dedicated one)",
        crate::cli::redact_url(&url)
    );
    if !args.reuse {
        eprintln!("filling {} with {} contacts", crate::cli::redact_url(&url), args.contacts);
    }

    let bar = if args.quiet { ProgressBar::hidden() } else { ProgressBar::new(args.contacts as u64) };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} contacts {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut rng = Rng(0x5EED_C0A7_AC75);
    // Every 100th contact is kept to draw queries from.
    let mut sample: Vec<ContactData> = Vec::new();
    let started = Instant::now();
    let mut made = 0;
    while made < args.contacts {
        let n = args.batch.min(args.contacts - made);
        let mut batch = Vec::with_capacity(n);
        for i in made..made + n {
            let data =
                contact(&mut rng, i).validate(&[]).map_err(|p| anyhow::anyhow!("bench contact {i}: {}", p[0]))?;
            if i % 100 == 0 {
                sample.push(data.clone());
            }
            batch.push(data);
        }
        if !args.reuse {
            let now = parley_server::clock::Clock::System.now();
            let (rows, events) = crate::contacts::new_contacts(&batch, now, "import");
            store.create_contacts(&rows, &events).await?;
        }
        made += n;
        bar.inc(n as u64);
    }
    bar.finish_and_clear();
    if !args.reuse {
        // As `parley contacts import` does after its batches.
        store.refresh_contact_statistics().await?;
    }
    let fill = started.elapsed();

    let mut all = Vec::new();
    let mut lines = Vec::new();
    for kind in Kind::ALL {
        let mut times = Vec::with_capacity(args.queries);
        let mut hits = 0usize;
        // A few searches first, untimed, so the first timed ones do not pay for a cold cache alone.
        for round in 0..args.queries + 10 {
            let Some(prefix) = kind.prefix(&sample[rng.below(sample.len())], &mut rng) else { continue };
            let Some(query) = SearchQuery::parse(&prefix) else { continue };
            let at = Instant::now();
            let found = store.search_contacts(Some(&query), parley_store::contacts::Among::All, None, 50).await?;
            let took = at.elapsed();
            if round >= 10 {
                times.push(took);
                hits += found.len();
            }
        }
        lines.push(format!(
            "{:<8} {}; {:.1} results per query",
            kind.as_str(),
            summary(&mut times),
            hits as f64 / times.len().max(1) as f64
        ));
        all.extend(times);
    }
    store.close().await;

    if args.reuse {
        println!("contacts  {} on {}, filled by an earlier run", args.contacts, engine(&url));
    } else {
        println!(
            "contacts  {} on {}, filled in {:.1} s ({:.0} contacts/s, {} per transaction, each with its event)",
            args.contacts,
            engine(&url),
            fill.as_secs_f64(),
            args.contacts as f64 / fill.as_secs_f64(),
            args.batch
        );
    }
    println!("searches  {} per kind, prefixes of 2 to 5 characters of existing contacts, pages of 50", args.queries);
    for line in lines {
        println!("{line}");
    }
    println!("{:<8} {}", "all", summary(&mut all));
    Ok(())
}

/// "p50 … ms, p95 … ms, p99 … ms, max … ms" of `times`.
fn summary(times: &mut [Duration]) -> String {
    if times.is_empty() {
        return "no queries".to_owned();
    }
    times.sort_unstable();
    let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    format!(
        "p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        ms(pct(0.50)),
        ms(pct(0.95)),
        ms(pct(0.99)),
        ms(pct(1.0))
    )
}

/// The engine of a database URL, for the report.
fn engine(url: &str) -> &'static str {
    if url.starts_with("postgres") { "PostgreSQL" } else { "SQLite" }
}
