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
  db_max_connections      = var.db_max_connections
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

  worker_count    = var.worker_count
  log_level       = var.log_level
  auth_issuer     = module.cognito.issuer_url
  auth_jwks_url   = module.cognito.jwks_url
  auth_client_ids = [module.cognito.client_id]
  stripe_price_id = var.stripe_price_id
  app_hostname    = var.app_hostname

  release_bucket       = { name = module.frontend.release_bucket, arn = module.frontend.release_bucket_arn }
  frontend_bucket      = { name = module.frontend.frontend_bucket, arn = module.frontend.frontend_bucket_arn }
  secret_arns          = module.secrets.arns
  db_master_secret_arn = module.database.master_user_secret_arn
  db_instance_arn      = module.database.arn
  log_groups           = module.observability.log_groups
}
