-- Issue 15: the platforms' figures (from the insights poller's metric snapshots), the poller's
-- status per account, publishing follow-up (quiet accounts) and the mail outbox.

-- superseded: it kept account snapshots without their day or version (nothing wrote it but tests)
DROP TABLE sla_metric_snapshots;

-- one row per account and platform day: every metric set and version of that day merged; a new
-- version replaces a figure, a figure missing from it never erases a known one
CREATE TABLE sla_account_days (
    platform text NOT NULL,
    account_id text NOT NULL,
    day date NOT NULL,
    reach bigint,
    impressions bigint,
    video_views bigint,
    interactions bigint,
    engaged_accounts bigint,
    followers bigint,
    new_followers bigint,
    lost_followers bigint,
    page_views bigint,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (platform, account_id, day)
);
CREATE INDEX sla_account_days_day ON sla_account_days (day);

-- the platform's own figure for a whole month (LinkedIn's monthly unique reach)
CREATE TABLE sla_account_months (
    platform text NOT NULL,
    account_id text NOT NULL,
    month date NOT NULL,
    reach bigint,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (platform, account_id, month)
);

-- a post's lifetime figures as of the latest poll
CREATE TABLE sla_post_figures (
    platform text NOT NULL,
    account_id text NOT NULL,
    post_id text NOT NULL,
    published_at timestamptz NOT NULL,
    as_of date NOT NULL,
    reach bigint,
    impressions bigint,
    video_views bigint,
    link_clicks bigint,
    reactions bigint,
    comments bigint,
    shares bigint,
    saves bigint,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (platform, account_id, post_id)
);
CREATE INDEX sla_post_figures_published ON sla_post_figures (published_at);

CREATE TABLE sla_insights_status (
    platform text NOT NULL,
    account_id text NOT NULL,
    state text NOT NULL,
    detail text,
    covered_until date,
    covered_since date,
    posts_covered_since timestamptz,
    last_success_at timestamptz,
    missing_metrics text[] NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (platform, account_id)
);

-- why a comment was removed: the acting rule of the moderation decision
ALTER TABLE sla_verdicts ADD COLUMN rule text;

ALTER TABLE sla_accounts ADD COLUMN department_email text;
-- since when this service knows the account (publishing is judged only over time it observed)
ALTER TABLE sla_accounts ADD COLUMN first_seen_at timestamptz NOT NULL DEFAULT now();

-- accounts that go quiet (followup.py, `evaluate_publishing`)
CREATE TABLE sla_publishing (
    platform text NOT NULL,
    account_id text NOT NULL,
    status text NOT NULL,
    quiet_since timestamptz,
    flagged_at timestamptz,
    escalated_at timestamptz,
    cleared_at timestamptz,
    posts_in_period integer NOT NULL DEFAULT 0,
    last_post_at timestamptz,
    evaluated_at timestamptz NOT NULL,
    PRIMARY KEY (platform, account_id)
);

-- e-mails to send (monthly reports, publishing notices): a row per mail, its key says which one,
-- so every mail is written once; sent while its row is locked, marked sent in the same transaction
CREATE TABLE sla_mail_outbox (
    id bigserial PRIMARY KEY,
    mail_key text NOT NULL UNIQUE,
    kind text NOT NULL,
    recipient text,
    subject text NOT NULL,
    body text NOT NULL,
    attachment bytea,
    attachment_name text,
    platform text,
    account_id text,
    department text,
    month text,
    message_id text NOT NULL,
    status text NOT NULL DEFAULT 'pending',
    attempts integer NOT NULL DEFAULT 0,
    last_error text,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz
);
CREATE INDEX sla_mail_outbox_due ON sla_mail_outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX sla_mail_outbox_account ON sla_mail_outbox (platform, account_id);

-- The report's monthly sums, kept up to date as figures arrive (the consumer recomputes the months
-- a batch touched), so that a city's 13-month report reads one row per account and month instead
-- of every day and post (bench/followup.py). Months: the platform's days; posts by Stockholm time.
CREATE TABLE sla_day_figures_by_month (
    platform text NOT NULL,
    account_id text NOT NULL,
    month date NOT NULL,
    reach_days integer NOT NULL,
    reach_sum bigint,
    followers_end bigint,
    followers_first bigint,
    new_followers bigint,
    lost_followers bigint,
    page_views bigint,
    PRIMARY KEY (platform, account_id, month)
);
CREATE TABLE sla_post_figures_by_month (
    platform text NOT NULL,
    account_id text NOT NULL,
    month date NOT NULL,
    posts integer NOT NULL,
    reactions bigint,
    comments bigint,
    shares bigint,
    saves bigint,
    link_clicks bigint,
    video_views bigint,
    post_reach bigint,
    interactions_on_reached bigint,
    PRIMARY KEY (platform, account_id, month)
);
CREATE TABLE sla_posts_by_month (
    platform text NOT NULL,
    account_id text NOT NULL,
    month date NOT NULL,
    posts integer NOT NULL,
    late_friday integer NOT NULL,
    PRIMARY KEY (platform, account_id, month)
);
CREATE INDEX sla_post_figures_account ON sla_post_figures (platform, account_id, published_at);
CREATE INDEX sla_posts_account ON sla_posts (platform, account_id, published_at);
