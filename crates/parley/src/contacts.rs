//! `parley contacts import|export`: the built-in CRM's contacts as CSV, straight in the database
//! (docs/crm.md "Import and export (CSV)"). The format is `parley_core::crm::csv`'s, for both ways.
//!
//! An import checks every row before it writes any, reports each refused row with its line, and
//! writes the others in batches, one transaction each, through `Store::create_contacts`, the same
//! door as every other writer of contacts, so each new contact comes with its `contact.changed`
//! event (`created`, by `import`). The exit status tells a script what happened: 0 all rows were
//! imported, 1 some were refused (the others were imported), 2 nothing was read (the file or its
//! header).

use std::io::{IsTerminal as _, Read as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use parley_core::crm::ContactChange;
use parley_core::crm::contact::ContactData;
use parley_core::crm::csv::{ContactsReader, ContactsWriter, ExportRow};
use parley_core::crm::fields::FieldDef;
use parley_core::event::Event;
use parley_core::time::Timestamp;
use parley_server::http::event_json;
use parley_store::Store;
use parley_store::contacts::ContactRow;

use crate::cli::{Failure, ServerArgs};

/// Contacts in one export page (the store's largest).
const EXPORT_PAGE: i64 = parley_store::contacts::MAX_PAGE;

#[derive(Debug, Subcommand)]
pub(crate) enum ContactsAction {
    /// Create contacts from a CSV file (columns: name, phones, email, company, owner, tags, notes and
    /// the setup's custom fields; id, created_at and updated_at are ignored: an import always
    /// creates). Every row is checked first; refused rows are reported as "line N: /pointer: reason"
    /// and the others imported. Exit status: 0 all imported, 1 some rows refused, 2 the file or its
    /// header cannot be read.
    Import {
        /// The CSV file (UTF-8, a header line first), or - for standard input.
        file: PathBuf,
        /// Check and report every row, write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Contacts written per transaction.
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        batch: u32,
        /// No progress bar (there is none either when standard error is not a terminal).
        #[arg(long)]
        quiet: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Write every contact as CSV, in creation order, with a column per custom field of the setup.
    /// Cells that a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage
    /// return, so every phones cell) get a leading quote ('), which an import removes again.
    Export {
        /// Where to write the CSV; - (the default) for standard output.
        #[arg(default_value = "-")]
        file: PathBuf,
        #[command(flatten)]
        server: ServerArgs,
    },
}

pub(crate) async fn run(action: ContactsAction) -> anyhow::Result<()> {
    match action {
        ContactsAction::Import { file, dry_run, batch, quiet, server } => {
            import(&file, dry_run, batch as usize, quiet, &server).await
        }
        ContactsAction::Export { file, server } => export(&file, &server).await,
    }
}

async fn import(file: &Path, dry_run: bool, batch: usize, quiet: bool, server: &ServerArgs) -> anyhow::Result<()> {
    let bytes = read_input(file).map_err(|e| Failure::new(2, format!("{e:#}")))?;
    let (store, fields) = open(server).await?;
    let name = file.display().to_string();
    let reader = ContactsReader::new(&bytes, &fields).map_err(|e| Failure::new(2, format!("{name}: {e}")))?;

    // Every row is checked before anything is written, so a report lists all refused rows at once.
    let mut good: Vec<ContactData> = Vec::new();
    let mut refused = 0usize;
    let mut report = std::io::stderr().lock();
    for row in reader {
        match row.validate(&fields) {
            Ok(data) => good.push(data),
            Err(problems) => {
                refused += 1;
                for p in problems {
                    let at = if p.pointer.is_empty() { String::new() } else { format!("{}: ", p.pointer) };
                    writeln!(report, "line {}: {at}{}", row.line, p.reason)?;
                }
            }
        }
    }
    drop(report);

    if dry_run {
        println!(
            "dry run: {} would be imported; {} refused; nothing was written",
            count(good.len(), "contact"),
            count(refused, "row")
        );
    } else {
        let bar = if quiet || !std::io::stderr().is_terminal() {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(good.len() as u64)
        };
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} contacts {per_sec} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let mut imported = 0usize;
        for chunk in good.chunks(batch) {
            let now = parley_server::clock::Clock::System.now();
            let (rows, events) = new_contacts(chunk, now, "import");
            if let Err(e) = store.create_contacts(&rows, &events).await {
                bar.abandon();
                println!("imported {} before the error; {} refused", count(imported, "contact"), count(refused, "row"));
                return Err(anyhow::Error::new(e).context("writing a batch of contacts (the batches before it stay)"));
            }
            imported += chunk.len();
            bar.inc(chunk.len() as u64);
        }
        bar.finish_and_clear();
        store.refresh_contact_statistics().await.context("updating the database's statistics after the import")?;
        println!("imported {}; {} refused", count(imported, "contact"), count(refused, "row"));
    }
    store.close().await;
    if refused > 0 {
        // Already reported, row by row and in the summary.
        return Err(Failure::new(1, String::new()).into());
    }
    Ok(())
}

/// The rows and `contact.changed` events (`created`, by `by`) of new contacts made of `data`, with
/// fresh time-ordered ids.
pub(crate) fn new_contacts(
    data: &[ContactData],
    now: Timestamp,
    by: &str,
) -> (Vec<ContactRow>, Vec<parley_store::rows::EventRow>) {
    let rows: Vec<ContactRow> = data
        .iter()
        .map(|d| ContactRow {
            id: format!("CT{}", uuid::Uuid::now_v7().simple()),
            data: d.clone(),
            created_at: now.0,
            updated_at: now.0,
        })
        .collect();
    let events = rows
        .iter()
        .map(|r| {
            let event =
                Event::ContactChanged { contact_id: r.id.clone(), change: ContactChange::Created, by: by.to_owned() };
            event_json::row(&event, None, None, now)
        })
        .collect();
    (rows, events)
}

async fn export(file: &Path, server: &ServerArgs) -> anyhow::Result<()> {
    let (store, fields) = open(server).await?;
    let to_stdout = file == Path::new("-");
    let mut out: Box<dyn std::io::Write> = if to_stdout {
        Box::new(std::io::stdout().lock())
    } else {
        let f = std::fs::File::create(file).with_context(|| format!("creating {}", file.display()))?;
        Box::new(std::io::BufWriter::new(f))
    };
    let mut writer = ContactsWriter::new(&fields);
    let mut after: Option<String> = None;
    let mut written = 0usize;
    loop {
        let page = store.contacts_for_export(after.as_deref(), EXPORT_PAGE).await?;
        for c in &page {
            writer.write(&ExportRow { id: &c.id, data: &c.data, created_at: c.created_at, updated_at: c.updated_at });
        }
        out.write_all(&writer.take()).context("writing the export")?;
        written += page.len();
        match page.last() {
            Some(last) if page.len() as i64 == EXPORT_PAGE => after = Some(last.id.clone()),
            _ => break,
        }
    }
    out.flush().context("writing the export")?;
    store.close().await;
    let place = if to_stdout { "standard output".to_owned() } else { file.display().to_string() };
    eprintln!("exported {} to {place}", count(written, "contact"));
    Ok(())
}

/// The file's bytes, or standard input's for `-`.
fn read_input(file: &Path) -> anyhow::Result<Vec<u8>> {
    if file == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin().lock().read_to_end(&mut bytes).context("reading standard input")?;
        Ok(bytes)
    } else {
        std::fs::read(file).with_context(|| format!("reading {}", file.display()))
    }
}

/// The migrated database and the custom fields its setup declares.
async fn open(server: &ServerArgs) -> anyhow::Result<(Store, Vec<FieldDef>)> {
    let config = server.resolve(false)?;
    let store = Store::connect(&config.database_url).await?;
    store.migrate().await?;
    let mut carriers = config.carrier_names();
    carriers.push("sim".to_owned());
    let carriers: Vec<&str> = carriers.iter().map(String::as_str).collect();
    let (_, setup) = parley_server::load_setup(&store, &carriers).await?;
    Ok((store, setup.contact_fields))
}

/// "1 contact", "2 contacts".
fn count(n: usize, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}
