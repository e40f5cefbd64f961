# Cognito user pool (email addresses as user names) and a public app client
# for the browser: no client secret, SRP sign-in, authorisation code flow.
#
# With existing_user_pool_id the pool (its users, settings and hosted UI
# domain) stays outside Terraform: only the app client is created in it.
# Cutover from a created pool to an existing one: docs/terraform.md.

data "aws_region" "current" {}

locals {
  create_pool  = var.existing_user_pool_id == null
  user_pool_id = local.create_pool ? aws_cognito_user_pool.this[0].id : var.existing_user_pool_id
  # The issuer of a pool is derived from its id (and region) alone.
  issuer_url = "https://cognito-idp.${data.aws_region.current.region}.amazonaws.com/${local.user_pool_id}"
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
    email_sending_account = "COGNITO_DEFAULT"
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
