output "certificate_arn" {
  description = "ARN of the issued (validated) ACM certificate."
  value       = aws_acm_certificate_validation.this.certificate_arn
}

output "fqdn" {
  description = "The public host name."
  value       = aws_route53_record.alias.fqdn
}
