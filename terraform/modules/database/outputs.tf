output "identifier" {
  description = "RDS instance identifier (CloudWatch dimension DBInstanceIdentifier)."
  value       = aws_db_instance.this.identifier
}

output "address" {
  description = "Hostname of the database."
  value       = aws_db_instance.this.address
}

output "port" {
  description = "Port of the database."
  value       = aws_db_instance.this.port
}

output "db_name" {
  description = "Name of the application database."
  value       = aws_db_instance.this.db_name
}

output "master_username" {
  description = "Master (owner) user, used by migrations."
  value       = aws_db_instance.this.username
}

output "master_user_secret_arn" {
  description = "ARN of the RDS-managed secret holding the master credentials."
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}

output "arn" {
  description = "ARN of the database instance (snapshot permissions, backup selection)."
  value       = aws_db_instance.this.arn
}

output "backup_vault_name" {
  description = "AWS Backup vault of the database; null without a backup plan."
  value       = var.backup_plan ? aws_backup_vault.this[0].name : null
}
