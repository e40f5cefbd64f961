# One EasySKS environment: every module wired together. envs/staging and
# envs/prod call this with their own values only, so the two cannot drift
# apart in wiring or outputs (tests/tf/check.mjs, rules env-drift and
# env-common).

data "aws_region" "current" {}

locals {
  name = "easysks-${var.environment}"

  # Also the provider's default_tags in envs/<env>/versions.tf; repeated on
  # the Auto Scaling group, which ignores default_tags.
  tags = {
    Project     = "easysks"
    Environment = var.environment
    ManagedBy   = "terraform"
  }

  # Hosts exist only once a release is published (two-phase first apply,
  # docs/runbook.md): the group is created empty, then scaled to its bounds.
  min_size         = var.hosts_enabled ? var.min_instances : 0
  max_size         = var.hosts_enabled ? var.max_instances : 0
  desired_capacity = var.hosts_enabled ? var.desired_instances : 0

  # max_connections RDS PostgreSQL derives from the class's memory:
  # LEAST(DBInstanceClassMemory / 9531392, 5000), where DBInstanceClassMemory
  # is the memory less what the OS and RDS keep (about 0.3 GiB on small
  # classes). Verify on first apply: SHOW max_connections.
  db_memory_gib = {
    "db.t4g.micro"   = 1
    "db.t4g.small"   = 2
    "db.t4g.medium"  = 4
    "db.t4g.large"   = 8
    "db.t4g.xlarge"  = 16
    "db.t4g.2xlarge" = 32
    "db.m7g.large"   = 8
    "db.m7g.xlarge"  = 16
    "db.m7g.2xlarge" = 32
    "db.m6g.large"   = 8
    "db.m6g.xlarge"  = 16
    "db.m6g.2xlarge" = 32
    "db.r7g.large"   = 16
    "db.r7g.xlarge"  = 32
  }
  db_max_connections = coalesce(var.db_max_connections, min(5000, floor((local.db_memory_gib[var.db_instance_class] - 0.3) * 1073741824 / 9531392)))

  # Connections at the worst moment: an instance refresh runs old and new
  # hosts side by side (max healthy 200 %), each with its workers and its
  # grading processes; migrations and operators need the rest.
  db_connections_peak = 2 * var.max_instances * (var.worker_count + var.ai_jobs_parallel)

  # AI grading switched off (ai_enabled = false): the hosts are not given
  # the key's secret at all, whatever state it is in (docs/runbook.md).
  app_secret_arns = { for name, arn in module.secrets.arns : name => arn if var.ai_enabled || name != "OPENAI_API_KEY" }
}

check "db_connections" {
  assert {
    condition     = local.db_connections_peak + 10 <= local.db_max_connections
    error_message = "2 x max_instances x (worker_count + ai_jobs_parallel) = ${local.db_connections_peak} connections, plus 10 for migrations and operators, exceed max_connections ${local.db_max_connections} of ${var.db_instance_class}."
  }
}

# The official Debian 12 image: the pinned one (ami_id, required in prod),
# or the newest (staging), whose change then only creates a launch template
# version until deploy/aws/roll.sh --launch-template rolls it out.
data "aws_ami" "debian" {
  most_recent = true
  owners      = ["136693071363"] # Debian cloud team

  filter {
    name   = var.ami_id == null ? "name" : "image-id"
    values = [var.ami_id == null ? "debian-12-amd64-*" : var.ami_id]
  }

  filter {
    name   = "architecture"
    values = ["x86_64"]
  }
}

module "network" {
  source = "../network"

  name               = local.name
  vpc_cidr           = var.vpc_cidr
  single_nat_gateway = var.single_nat_gateway
  availability_zones = var.availability_zones
}

module "frontend" {
  source = "../frontend"

  bucket_prefix = local.name
  force_destroy = var.teardown_friendly
}

module "secrets" {
  source = "../secrets"

  name_prefix             = "easysks/${var.environment}"
  recovery_window_in_days = var.secret_recovery_window_days
}

module "cognito" {
  source = "../cognito"

  name                     = local.name
  existing_user_pool_id    = var.cognito_user_pool_id
  domain_prefix            = var.cognito_domain_prefix
  callback_urls            = concat(["https://${var.app_hostname}/"], var.extra_callback_urls)
  logout_urls              = concat(["https://${var.app_hostname}/"], var.extra_callback_urls)
  allow_user_password_auth = var.allow_user_password_auth
  deletion_protection      = var.deletion_protection
  zone_id                  = var.route53_zone_id
  mail_domain              = var.app_hostname
  threat_protection        = var.cognito_threat_protection
}

module "database" {
  source = "../database"

  identifier                   = local.name
  subnet_ids                   = module.network.private_subnet_ids
  security_group_id            = module.network.db_security_group_id
  instance_class               = var.db_instance_class
  multi_az                     = var.db_multi_az
  backup_retention_period      = var.db_backup_retention_days
  backup_plan                  = var.db_backup_plan
  deletion_protection          = var.deletion_protection
  performance_insights_enabled = var.db_performance_insights
  log_retention_days           = var.log_retention_days
  apply_immediately            = var.db_apply_immediately
}

module "dns" {
  source = "../dns"

  hostname    = var.app_hostname
  zone_id     = var.route53_zone_id
  lb_dns_name = module.app.nlb_dns_name
  lb_zone_id  = module.app.nlb_zone_id
}

module "observability" {
  source = "../observability"

  name                    = local.name
  environment             = var.environment
  log_retention_days      = var.log_retention_days
  alarm_email             = var.alarm_email
  nlb_arn_suffix          = module.app.nlb_arn_suffix
  target_group_arn_suffix = module.app.https_target_group_arn_suffix
  asg_name                = module.app.asg_name
  min_healthy_hosts       = local.min_size
  certificate_arn         = module.dns.certificate_arn
  db_identifier           = module.database.identifier
  db_instance_class       = var.db_instance_class
  db_max_connections      = local.db_max_connections
  backup_vault_name       = module.database.backup_vault_name
}

module "app" {
  source = "../app"

  name        = local.name
  environment = var.environment
  tags        = local.tags

  vpc_id                     = module.network.vpc_id
  public_subnet_ids          = module.network.public_subnet_ids
  private_subnet_ids         = module.network.private_subnet_ids
  nlb_security_group_id      = module.network.nlb_security_group_id
  instance_security_group_id = module.network.app_security_group_id
  certificate_arn            = module.dns.certificate_arn
  nlb_deletion_protection    = var.deletion_protection

  ami_id           = data.aws_ami.debian.id
  root_device_name = data.aws_ami.debian.root_device_name
  instance_type    = var.instance_type
  min_size         = local.min_size
  max_size         = local.max_size
  desired_capacity = local.desired_capacity

  worker_count     = var.worker_count
  ai_jobs_parallel = var.ai_jobs_parallel
  log_level        = var.log_level
  auth_issuer      = module.cognito.issuer_url
  auth_jwks_url    = module.cognito.jwks_url
  auth_client_ids  = [module.cognito.client_id]
  stripe_price_id  = var.stripe_price_id
  app_hostname     = var.app_hostname

  release_bucket       = { name = module.frontend.release_bucket, arn = module.frontend.release_bucket_arn }
  frontend_bucket      = { name = module.frontend.frontend_bucket, arn = module.frontend.frontend_bucket_arn }
  secret_arns          = local.app_secret_arns
  db_master_secret_arn = module.database.master_user_secret_arn
  db_instance_arn      = module.database.arn
  log_groups           = module.observability.log_groups
  user_pool_arn        = module.cognito.user_pool_arn

  # The repository's host side, passed in rather than found by the module.
  user_data_template_path = "${path.module}/../../../deploy/cloud-init/user-data.yaml.tftpl"
  host_scripts_dir        = "${path.module}/../../../deploy/host"
}
