output "user_pool_id" {
  description = "ID of the user pool."
  value       = local.user_pool_id
}

output "user_pool_arn" {
  description = "ARN of the user pool (in the pool's own region)."
  value       = local.pool_arn
}

output "region" {
  description = "Region of the user pool, from its id."
  value       = local.pool_region
}

output "ses_identity_arn" {
  description = "SES identity the pool sends mail from."
  value       = aws_sesv2_email_identity.mail.arn
}

output "issuer_url" {
  description = "Expected iss claim (AUTH_ISSUER): https://cognito-idp.<region>.amazonaws.com/<pool id>."
  value       = local.issuer_url
}

output "jwks_url" {
  description = "Signing keys of the pool (AUTH_JWKS_URL)."
  value       = "${local.issuer_url}/.well-known/jwks.json"
}

output "client_id" {
  description = "ID of the browser app client (AUTH_CLIENT_IDS)."
  value       = aws_cognito_user_pool_client.web.id
}

output "hosted_ui_domain" {
  description = "Hosted UI domain of a created pool; null for an existing pool (its own domain stays)."
  value       = local.create_pool ? "${aws_cognito_user_pool_domain.this[0].domain}.auth.${data.aws_region.current.region}.amazoncognito.com" : null
}
