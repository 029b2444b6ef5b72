//! Reports: a chat's facts folded from its stored events (`facts`), the period and its buckets in the
//! viewer's time zone (`range`), the sums the report kinds show (`figures`), and finished chats' facts as the rows the database
//! sums (`rollup`). docs/reports.md
//! defines every figure; the server reads the events and writes the tables, charts and CSV.

pub mod facts;
pub mod figures;
pub mod kinds;
pub mod range;
pub mod rollup;
pub mod table;
