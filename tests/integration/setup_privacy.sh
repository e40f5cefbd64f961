#!/usr/bin/env bash
# The legal pages' details for the test stack (sourced by run.sh before
# /config.json is rendered): made-up values, so the browser test can see
# that the Impressum and the Datenschutzerklärung show what an environment
# configures (docs/privacy.md#legal-pages).
# shellcheck disable=SC2034

export EASYSKS_LEGAL_NAME='Testbetrieb EasySKS (Beispiel)'
export EASYSKS_LEGAL_ADDRESS='Hafenstraße 1 | 24103 Kiel'
export EASYSKS_LEGAL_EMAIL='kontakt@easysks.invalid'
export EASYSKS_LEGAL_AUTHORITY='Unabhängiges Landeszentrum für Datenschutz Schleswig-Holstein'
export EASYSKS_LEGAL_LOG_RETENTION_DAYS=30 EASYSKS_LEGAL_BACKUP_RETENTION_DAYS=7
