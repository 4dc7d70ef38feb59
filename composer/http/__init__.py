"""HTTP plumbing the pages (composer.web) and the API (composer.api) share: the one mapping from
errors to statuses, Server-Sent Events, middleware and login throttling."""
