variable "name" {
  description = "Name prefix of alarms and the SNS topic, e.g. easysks-staging."
  type        = string
}

variable "environment" {
  description = "Environment name; part of the log group paths and the metric namespace."
  type        = string
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps application and nginx logs (they hold client IPs and user IDs)."
  type        = number

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...); never 0 (keep forever)."
  }
}

variable "alarm_email" {
  description = "Address subscribed to the alarm topic (the subscription must be confirmed by mail); null for none, which only staging allows."
  type        = string
  default     = null
}

variable "asg_name" {
  description = "Auto Scaling group whose failed launches are reported."
  type        = string
}

variable "min_healthy_hosts" {
  description = "Alarm when fewer hosts than this are healthy behind the load balancer (the group's minimum)."
  type        = number
}

variable "certificate_arn" {
  description = "ACM certificate whose expiry is watched."
  type        = string
}

variable "certificate_min_days" {
  description = "Alarm when the certificate expires in fewer days (ACM renews 60 days ahead)."
  type        = number
  default     = 30
}

variable "latency_p99_threshold_seconds" {
  description = "Alarm when the 99th percentile of request time stays above this many seconds."
  type        = number
  default     = 1
}

variable "nlb_arn_suffix" {
  description = "arn_suffix of the network load balancer."
  type        = string
}

variable "target_group_arn_suffix" {
  description = "arn_suffix of the HTTPS target group whose unhealthy hosts are alarmed on."
  type        = string
}

variable "db_identifier" {
  description = "RDS instance identifier."
  type        = string
}

variable "http_5xx_rate_threshold" {
  description = "Alarm when more than this percentage of requests answer 5xx over two 5-minute periods."
  type        = number
  default     = 5
}

variable "db_instance_class" {
  description = "RDS instance class (burstable db.t* classes get a CPU credit alarm)."
  type        = string
}

variable "db_max_connections" {
  description = "max_connections of the database; the connections alarm fires at 80 % of it."
  type        = number
}

variable "db_freeable_memory_threshold_bytes" {
  description = "Alarm when the database's freeable memory stays below this many bytes."
  type        = number
  default     = 104857600
}

variable "db_cpu_credit_threshold" {
  description = "Alarm when a burstable database is charged more surplus CPU credits than this in an hour (unlimited mode: one credit is one vCPU-minute at 100 %)."
  type        = number
  default     = 1
}

variable "db_cpu_threshold" {
  description = "Alarm when the database CPU stays above this percentage for 15 minutes."
  type        = number
  default     = 80
}

variable "db_free_storage_threshold_bytes" {
  description = "Alarm when free database storage falls below this many bytes."
  type        = number
  default     = 2147483648
}

variable "backup_vault_name" {
  description = "AWS Backup vault whose failures go to the alarm topic; null without a backup plan."
  type        = string
  default     = null
}
