output "region" {
  description = "AWS region of the environment."
  value       = module.stack.region
}

output "public_url" {
  description = "https://<app_hostname>: what deploy/smoke.sh checks after a deploy."
  value       = module.stack.public_url
}

output "nlb_dns_name" {
  description = "DNS name of the load balancer (the alias record points at it)."
  value       = module.stack.nlb_dns_name
}

output "nat_public_ips" {
  description = "Egress addresses of the hosts."
  value       = module.stack.nat_public_ips
}

output "ami_id" {
  description = "AMI the launch template uses; pin it (ami_id) to keep it."
  value       = module.stack.ami_id
}

output "asg_name" {
  description = "Auto Scaling group to watch during instance refreshes."
  value       = module.stack.asg_name
}

output "launch_template_id" {
  description = "Launch template whose latest version deploy/aws/roll.sh --launch-template rolls out."
  value       = module.stack.launch_template_id
}

output "release_parameter_name" {
  description = "SSM parameter deploy/aws/roll.sh sets to roll a release."
  value       = module.stack.release_parameter_name
}

output "deployer_policy_arn" {
  description = "IAM policy for the deployer (CI role or operators): attach it, do not widen it."
  value       = module.stack.deployer_policy_arn
}

output "release_bucket" {
  description = "Bucket deploy uploads releases to."
  value       = module.stack.release_bucket
}

output "frontend_bucket" {
  description = "Bucket deploy uploads the frontend bundle to."
  value       = module.stack.frontend_bucket
}

output "db_identifier" {
  description = "RDS instance identifier (snapshots, restore drills)."
  value       = module.stack.db_identifier
}

output "db_endpoint" {
  description = "Database host:port."
  value       = module.stack.db_endpoint
}

output "db_name" {
  description = "Application database name."
  value       = module.stack.db_name
}

output "db_master_secret_arn" {
  description = "RDS-managed master secret (owner role, migrations)."
  value       = module.stack.db_master_secret_arn
}

output "secret_arns" {
  description = "Application secrets keyed by setting name."
  value       = module.stack.secret_arns
}

output "secret_names" {
  description = "Application secret names keyed by setting name (for put-secret-value)."
  value       = module.stack.secret_names
}

output "log_group_names" {
  description = "CloudWatch log groups keyed app, nginx_access, nginx_error."
  value       = module.stack.log_group_names
}

output "alarm_topic_arn" {
  description = "SNS topic of the alarms."
  value       = module.stack.alarm_topic_arn
}

output "auth_issuer" {
  description = "AUTH_ISSUER."
  value       = module.stack.auth_issuer
}

output "auth_jwks_url" {
  description = "AUTH_JWKS_URL."
  value       = module.stack.auth_jwks_url
}

output "auth_user_pool_id" {
  description = "Cognito user pool (created, or the existing one)."
  value       = module.stack.auth_user_pool_id
}

output "auth_client_id" {
  description = "AUTH_CLIENT_IDS (the browser app client)."
  value       = module.stack.auth_client_id
}

output "auth_hosted_ui_domain" {
  description = "Cognito hosted UI domain; null with an existing pool (its own domain stays)."
  value       = module.stack.auth_hosted_ui_domain
}
