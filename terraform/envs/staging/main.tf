# Staging: what differs from production, and nothing else. The wiring, the
# outputs and every default live in modules/stack (tf-check: env-drift,
# env-common).

module "stack" {
  source = "../../modules/stack"

  environment = "staging"

  # Inputs of whoever applies (terraform.tfvars, docs/terraform.md).
  app_hostname         = var.app_hostname
  route53_zone_id      = var.route53_zone_id
  hosts_enabled        = var.hosts_enabled
  ami_id               = var.ami_id
  stripe_price_id      = var.stripe_price_id
  cognito_user_pool_id = var.cognito_user_pool_id
  alarm_email          = var.alarm_email
  availability_zones   = var.availability_zones
  db_apply_immediately = var.db_apply_immediately
  ai_enabled           = var.ai_enabled

  instance_type     = "t3.small"
  min_instances     = 1
  max_instances     = 2
  desired_instances = 1
  worker_count      = 4
  log_level         = "debug"

  # One NAT gateway for both AZs: cheaper; an AZ outage cuts the other AZ's egress.
  vpc_cidr           = "10.20.0.0/16"
  single_nat_gateway = true

  cognito_domain_prefix = "easysks-staging"
  # The local frontend against the staging pool.
  extra_callback_urls = ["https://localhost:8443/"]

  db_instance_class        = "db.t4g.micro"
  db_multi_az              = false
  db_backup_retention_days = 7
  db_backup_plan           = false
  db_performance_insights  = false

  deletion_protection         = false
  teardown_friendly           = true
  secret_recovery_window_days = 7
  # 30 days: enough to debug a release, little personal data kept.
  log_retention_days = 30
}
