variable "bucket_prefix" {
  description = "Prefix of the bucket names; the account ID is appended to keep them globally unique."
  type        = string
}

variable "release_noncurrent_days" {
  description = "Days an overwritten or deleted release object is kept (rollback window)."
  type        = number
  default     = 90
}

variable "release_noncurrent_versions_kept" {
  description = "Newest noncurrent versions of each release object kept regardless of age."
  type        = number
  default     = 5
}

variable "frontend_noncurrent_days" {
  description = "Days an overwritten or deleted frontend object is kept."
  type        = number
  default     = 30
}

variable "force_destroy" {
  description = "Allow destroying non-empty buckets (staging teardown only)."
  type        = bool
  default     = false
}
