# Cognito user pool (email addresses as user names) and a public app client
# for the browser: no client secret, SRP sign-in, authorisation code flow.
#
# With existing_user_pool_id the pool (its users, settings and hosted UI
# domain) stays outside Terraform: only the app client is created in it.
# Cutover from a created pool to an existing one: docs/terraform.md.

data "aws_region" "current" {}

data "aws_caller_identity" "current" {}

locals {
  create_pool  = var.existing_user_pool_id == null
  user_pool_id = local.create_pool ? aws_cognito_user_pool.this[0].id : var.existing_user_pool_id
  # A pool id is "<region>_<suffix>": an existing pool may live in another
  # region than the provider's, and its issuer, JWKS URL and Cognito API are
  # that region's (the hosts take the browser's Cognito API and the CSP from
  # AUTH_ISSUER, deploy/host/bootstrap.sh).
  pool_region = local.create_pool ? data.aws_region.current.region : split("_", var.existing_user_pool_id)[0]
  issuer_url  = "https://cognito-idp.${local.pool_region}.amazonaws.com/${local.user_pool_id}"
  pool_arn    = "arn:aws:cognito-idp:${local.pool_region}:${data.aws_caller_identity.current.account_id}:userpool/${local.user_pool_id}"

  # Cognito's own mailer sends 50 messages a day per account: confirmation
  # codes and password resets would stop on launch day. Mail goes through
  # SES with the environment's verified domain (aws_sesv2_email_identity below).
  from_address = "EasySKS <${var.mail_from_local_part}@${var.mail_domain}>"
}

# --- Mail through SES ----------------------------------------------------------
# The domain identity, verified by Easy DKIM records in the zone. A new SES
# account is in the sandbox (only verified recipients, 200 a day): request
# production access before launch (docs/runbook.md, "SES out of the sandbox").

resource "aws_sesv2_email_identity" "mail" {
  email_identity = var.mail_domain
}

resource "aws_route53_record" "dkim" {
  count = 3

  zone_id = var.zone_id
  name    = "${aws_sesv2_email_identity.mail.dkim_signing_attributes[0].tokens[count.index]}._domainkey.${var.mail_domain}"
  type    = "CNAME"
  ttl     = 1800
  records = ["${aws_sesv2_email_identity.mail.dkim_signing_attributes[0].tokens[count.index]}.dkim.amazonses.com"]
}

# An existing pool is configured outside Terraform: warn on every plan while
# it still sends with Cognito's default mailer.
check "existing_pool_mail" {
  data "aws_cognito_user_pool" "existing" {
    user_pool_id = local.user_pool_id
  }

  assert {
    condition     = local.create_pool || try(data.aws_cognito_user_pool.existing.email_configuration[0].email_sending_account, "") == "DEVELOPER"
    error_message = "The existing user pool sends mail with COGNITO_DEFAULT (50 a day): set its email configuration to DEVELOPER with the SES identity ${var.mail_domain} (docs/terraform.md)."
  }
}

resource "aws_cognito_user_pool" "this" {
  count = local.create_pool ? 1 : 0

  name                = var.name
  username_attributes = ["email"]
  deletion_protection = var.deletion_protection ? "ACTIVE" : "INACTIVE"
  mfa_configuration   = var.mfa_configuration

  auto_verified_attributes = ["email"]

  username_configuration {
    case_sensitive = false
  }

  password_policy {
    minimum_length                   = var.password_minimum_length
    require_lowercase                = true
    require_uppercase                = true
    require_numbers                  = true
    require_symbols                  = false
    temporary_password_validity_days = 3
  }

  dynamic "software_token_mfa_configuration" {
    for_each = var.mfa_configuration == "OFF" ? [] : [true]

    content {
      enabled = true
    }
  }

  account_recovery_setting {
    recovery_mechanism {
      name     = "verified_email"
      priority = 1
    }
  }

  admin_create_user_config {
    allow_admin_create_user_only = false
  }

  email_configuration {
    email_sending_account = "DEVELOPER"
    source_arn            = aws_sesv2_email_identity.mail.arn
    from_email_address    = local.from_address
  }

  # Bot resistance (self sign-up is open): threat protection needs the Plus
  # feature plan, billed per monthly active user (docs/terraform.md, "Sign-up
  # abuse", states the cost). OFF keeps the Essentials plan.
  user_pool_tier = var.threat_protection == "OFF" ? "ESSENTIALS" : "PLUS"

  dynamic "user_pool_add_ons" {
    for_each = var.threat_protection == "OFF" ? [] : [var.threat_protection]

    content {
      advanced_security_mode = user_pool_add_ons.value
    }
  }
}

resource "aws_cognito_user_pool_client" "web" {
  name            = "${var.name}-web"
  user_pool_id    = local.user_pool_id
  generate_secret = false

  explicit_auth_flows = concat(
    ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    var.allow_user_password_auth ? ["ALLOW_USER_PASSWORD_AUTH"] : [],
  )

  allowed_oauth_flows_user_pool_client = true
  allowed_oauth_flows                  = ["code"]
  allowed_oauth_scopes                 = ["openid", "email", "profile"]
  supported_identity_providers         = ["COGNITO"]
  callback_urls                        = var.callback_urls
  logout_urls                          = var.logout_urls

  prevent_user_existence_errors = "ENABLED"
  enable_token_revocation       = true

  access_token_validity  = 60
  id_token_validity      = 60
  refresh_token_validity = 30

  token_validity_units {
    access_token  = "minutes"
    id_token      = "minutes"
    refresh_token = "days"
  }
}

resource "aws_cognito_user_pool_domain" "this" {
  count = local.create_pool ? 1 : 0

  domain       = var.domain_prefix
  user_pool_id = aws_cognito_user_pool.this[0].id
}

# The pool and its domain became optional (existing_user_pool_id).
moved {
  from = aws_cognito_user_pool.this
  to   = aws_cognito_user_pool.this[0]
}

moved {
  from = aws_cognito_user_pool_domain.this
  to   = aws_cognito_user_pool_domain.this[0]
}
