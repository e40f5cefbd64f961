#!/usr/bin/env bash
# Pool settings for the tests (sourced by run.sh before the pool starts).
export EASYSKS_MAX_BODY=262144
# Long enough that a request can be held in flight by a table lock.
export EASYSKS_HEALTH_TIMEOUT_MS=5000
