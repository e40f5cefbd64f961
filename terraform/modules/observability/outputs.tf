output "log_group_names" {
  description = "Log group names keyed app, nginx_access, nginx_error."
  value       = { for key, group in aws_cloudwatch_log_group.this : key => group.name }
}

output "log_groups" {
  description = "Log group names and ARNs keyed like log_group_names."
  value       = { for key, group in aws_cloudwatch_log_group.this : key => { name = group.name, arn = group.arn } }
}

output "alarm_topic_arn" {
  description = "SNS topic that receives every alarm."
  value       = aws_sns_topic.alarms.arn
}
