output "release_bucket" {
  description = "Name of the release bucket."
  value       = aws_s3_bucket.this["releases"].id
}

output "release_bucket_arn" {
  description = "ARN of the release bucket."
  value       = aws_s3_bucket.this["releases"].arn
}

output "frontend_bucket" {
  description = "Name of the frontend bundle bucket."
  value       = aws_s3_bucket.this["frontend"].id
}

output "frontend_bucket_arn" {
  description = "ARN of the frontend bundle bucket."
  value       = aws_s3_bucket.this["frontend"].arn
}
