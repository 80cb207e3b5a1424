//! pipeline-check: proves that upload → notification → push → `StorageLog` works, and how fast.
//! Exit status: 0 every object stored once, 1 one lost or stored twice, 2 the check could not run.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use common::configuration::Env;
use common::datastore::{Datastore, DatastoreSettings};
use google_clients::Endpoints;
use indicatif::{ProgressBar, ProgressStyle};
use tools::pipeline::{self, CheckError, Plan, Report, Source};

/// Sends COUNT notifications into the storage logging pipeline and reads their StorageLog
/// entities back from Datastore: how many arrived once, none or twice, and how fast.
///
/// Emulators as usual: PUBSUB_EMULATOR_HOST, DATASTORE_EMULATOR_HOST, and STORAGE_EMULATOR_HOST
/// (a URL, e.g. fake-gcs-server's). Otherwise Google, with Application Default Credentials.
#[derive(Debug, Parser)]
#[command(name = "pipeline-check", version)]
struct Args {
    /// How many objects.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    count: u32,
    /// upload: objects to the bucket, whose notification configuration publishes them.
    /// publish: notifications straight to the topic, shaped as Cloud Storage's (no Cloud Storage).
    #[arg(long, value_enum, default_value_t = Via::Upload)]
    via: Via,
    /// The bucket the objects are in (gs:// optional).
    #[arg(long, env = "BUCKET")]
    bucket: String,
    /// The topic to publish to (--via publish): a name in the project, or projects/P/topics/T.
    #[arg(long, env = "TOPIC", default_value = "storage-event")]
    topic: String,
    /// The project of the topic and of Datastore (over DATASTORE_PROJECT_ID).
    #[arg(long, env = "GOOGLE_CLOUD_PROJECT")]
    project: Option<String>,
    /// Sends per second (default: as fast as 64 sends in flight allow).
    #[arg(long, value_parser = positive_rate)]
    rate: Option<f64>,
    /// Seconds to wait for the last StorageLog after the last send.
    #[arg(long, default_value_t = 120)]
    deadline: u64,
    /// Seconds to go on reading once all have arrived, so that a second delivery shows.
    #[arg(long, default_value_t = 3)]
    settle: u64,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Via {
    Upload,
    Publish,
}

fn positive_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(rate),
        _ => Err("a number of sends per second above 0".into()),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match check(&args).await {
        Ok(report) => {
            if args.json {
                println!("{}", serde_json::to_string(&report).unwrap_or_default());
            } else {
                println!("{report}");
            }
            if report.passed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(error) => {
            eprintln!("pipeline-check: {}", error.to_string().replace('\n', " "));
            ExitCode::from(2)
        }
    }
}

async fn check(args: &Args) -> Result<Report, CheckError> {
    let mut plan = Plan::new(args.count as usize);
    plan.rate = args.rate;
    plan.deadline = Duration::from_secs(args.deadline);
    plan.settle = Duration::from_secs(args.settle);

    let mut settings = DatastoreSettings::read(&Env::process())
        .map_err(|e| CheckError(format!("Datastore settings: {e}")))?;
    // Reading back a large run takes many pages; each read gets a minute unless told otherwise.
    if std::env::var_os("DATASTORE_TIMEOUT_MS").is_none() {
        settings.deadline = Duration::from_secs(60);
    }
    if args.project.is_some() {
        settings.project_id.clone_from(&args.project);
    }
    let datastore = Datastore::new(settings);

    let source = source(args).await?;
    let progress = if args.json {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::new(0);
        if let Ok(style) = ProgressStyle::with_template("{msg:>7} {wide_bar} {pos}/{len} {elapsed}")
        {
            bar.set_style(style);
        }
        bar
    };
    pipeline::run(&plan, &source, &datastore, &progress).await
}

async fn source(args: &Args) -> Result<Source, CheckError> {
    let endpoints = Endpoints::from_env();
    let bucket = args
        .bucket
        .trim_start_matches("gs://")
        .trim_end_matches('/')
        .to_owned();
    if bucket.is_empty() {
        return Err(CheckError("--bucket is empty".into()));
    }
    match args.via {
        Via::Upload => {
            let storage = endpoints
                .storage()
                .await
                .map_err(|e| CheckError(format!("Cloud Storage client: {e}")))?;
            Ok(Source::Upload {
                storage: Box::new(storage),
                bucket,
            })
        }
        Via::Publish => {
            let topic = match (&args.project, args.topic.starts_with("projects/")) {
                (_, true) => args.topic.clone(),
                (Some(project), false) => format!("projects/{project}/topics/{}", args.topic),
                (None, false) => {
                    return Err(CheckError(
                        "--via publish needs --project (or GOOGLE_CLOUD_PROJECT) or a full topic name".into(),
                    ));
                }
            };
            let publisher = endpoints
                .publisher(&topic)
                .await
                .map_err(|e| CheckError(format!("Pub/Sub client: {e}")))?;
            Ok(Source::Publish {
                publisher,
                topic,
                bucket,
            })
        }
    }
}
