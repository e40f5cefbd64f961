locals {
  environment = "staging"

  tags = {
    Project     = "easysks"
    Environment = local.environment
    ManagedBy   = "terraform"
  }
}

module "stack" {
  source = "../../modules/stack"

  environment = local.environment
  tags        = local.tags

  app_hostname    = var.app_hostname
  route53_zone_id = var.route53_zone_id

  hosts_enabled     = var.hosts_enabled
  ami_id            = var.ami_id
  instance_type     = var.instance_type
  min_instances     = var.min_instances
  max_instances     = var.max_instances
  desired_instances = var.desired_instances
  worker_count      = var.worker_count
  log_level         = var.log_level
  stripe_price_id   = var.stripe_price_id

  vpc_cidr           = var.vpc_cidr
  single_nat_gateway = var.single_nat_gateway

  cognito_user_pool_id     = var.cognito_user_pool_id
  cognito_domain_prefix    = var.cognito_domain_prefix
  extra_callback_urls      = var.extra_callback_urls
  allow_user_password_auth = var.allow_user_password_auth

  db_instance_class        = var.db_instance_class
  db_multi_az              = var.db_multi_az
  db_backup_retention_days = var.db_backup_retention_days
  db_backup_plan           = var.db_backup_plan
  db_performance_insights  = var.db_performance_insights
  db_max_connections       = var.db_max_connections

  deletion_protection         = var.deletion_protection
  teardown_friendly           = var.teardown_friendly
  secret_recovery_window_days = var.secret_recovery_window_days
  log_retention_days          = var.log_retention_days
  alarm_email                 = var.alarm_email
}
