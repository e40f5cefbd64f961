locals {
  environment = "prod"
  name        = "easysks-${local.environment}"

  tags = {
    Project     = "easysks"
    Environment = local.environment
    ManagedBy   = "terraform"
  }
}

module "network" {
  source = "../../modules/network"

  name               = local.name
  vpc_cidr           = var.vpc_cidr
  single_nat_gateway = false
}

module "frontend" {
  source = "../../modules/frontend"

  bucket_prefix = local.name
}

module "secrets" {
  source = "../../modules/secrets"

  name_prefix             = "easysks/${local.environment}"
  recovery_window_in_days = 30
}

module "cognito" {
  source = "../../modules/cognito"

  name                = local.name
  domain_prefix       = var.cognito_domain_prefix
  callback_urls       = ["https://${var.app_hostname}/"]
  logout_urls         = ["https://${var.app_hostname}/"]
  deletion_protection = true
}

module "database" {
  source = "../../modules/database"

  identifier                   = local.name
  subnet_ids                   = module.network.private_subnet_ids
  security_group_id            = module.network.db_security_group_id
  instance_class               = var.db_instance_class
  multi_az                     = var.db_multi_az
  backup_retention_period      = var.db_backup_retention_days
  deletion_protection          = true
  performance_insights_enabled = true
  log_retention_days           = var.log_retention_days
}

module "observability" {
  source = "../../modules/observability"

  name                    = local.name
  environment             = local.environment
  log_retention_days      = var.log_retention_days
  alarm_email             = var.alarm_email
  nlb_arn_suffix          = module.app.nlb_arn_suffix
  target_group_arn_suffix = module.app.https_target_group_arn_suffix
  db_identifier           = module.database.identifier
}

module "app" {
  source = "../../modules/app"

  name        = local.name
  environment = local.environment
  tags        = local.tags

  vpc_id                     = module.network.vpc_id
  public_subnet_ids          = module.network.public_subnet_ids
  private_subnet_ids         = module.network.private_subnet_ids
  nlb_security_group_id      = module.network.nlb_security_group_id
  instance_security_group_id = module.network.app_security_group_id
  nlb_deletion_protection    = true

  instance_type    = var.instance_type
  min_size         = var.min_instances
  max_size         = var.max_instances
  desired_capacity = var.desired_instances

  release_version = var.release_version
  worker_count    = var.worker_count
  log_level       = var.log_level
  auth_issuer     = module.cognito.issuer_url
  auth_jwks_url   = module.cognito.jwks_url
  auth_client_ids = [module.cognito.client_id]
  stripe_price_id = var.stripe_price_id

  release_bucket       = { name = module.frontend.release_bucket, arn = module.frontend.release_bucket_arn }
  frontend_bucket      = { name = module.frontend.frontend_bucket, arn = module.frontend.frontend_bucket_arn }
  secret_arns          = module.secrets.arns
  db_master_secret_arn = module.database.master_user_secret_arn
  log_groups           = module.observability.log_groups
}
