# Production: what differs from staging, and nothing else. The wiring, the
# outputs and every default live in modules/stack (tf-check: env-drift,
# env-common).

module "stack" {
  source = "../../modules/stack"

  environment = "prod"

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

  # Hosts: two keep one per AZ. min_instances from docs/capacity.md's
  # formula: max(2, CPU term, 1 + ceil(2 x A x 0.115 x t / W)) = 2 for
  # A = 10 000 active learners, t = 3 ms, W = 8.
  instance_type     = "t3.medium"
  min_instances     = 2
  max_instances     = 6
  desired_instances = 2
  worker_count      = 8
  log_level         = "info"

  # One NAT gateway per AZ survives an AZ outage.
  vpc_cidr           = "10.30.0.0/16"
  single_nat_gateway = false

  cognito_domain_prefix = "easysks"
  # Self sign-up is open: threat protection against bots (Plus plan, cost in
  # docs/terraform.md).
  cognito_threat_protection = "ENFORCED"

  db_instance_class        = "db.t4g.medium"
  db_multi_az              = true
  db_backup_retention_days = 14
  db_backup_plan           = true
  db_performance_insights  = true

  deletion_protection         = true
  teardown_friendly           = false
  secret_recovery_window_days = 30
  # 90 days: covers incident and abuse investigations, then personal data ages out.
  log_retention_days = 90
}
