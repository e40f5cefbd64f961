output "arns" {
  description = "Secret ARNs keyed by the application setting they hold (DATABASE_URL, STRIPE_API_KEY, ...)."
  value       = { for key, secret in aws_secretsmanager_secret.this : key => secret.arn }
}

output "names" {
  description = "Secret names keyed like arns, for put-secret-value."
  value       = { for key, secret in aws_secretsmanager_secret.this : key => secret.name }
}
