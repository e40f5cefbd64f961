# Secret containers only. Terraform never sees a value: operators set them
# with `aws secretsmanager put-secret-value` (docs/terraform.md), and the hosts
# read them at service start. Keys are the application's setting names; the
# host exposes each as NAME_FILE. No TLS material: the public certificate is
# ACM's, on the load balancer (modules/dns), and nginx's certificate towards
# the load balancer is made on each host. Encrypted with the AWS managed key
# aws/secretsmanager (a customer managed key would also need kms:Decrypt in
# the host role).

locals {
  secrets = {
    DATABASE_URL           = { name = "database-url", description = "libpq URI of the application role (DML only)" }
    STRIPE_API_KEY         = { name = "stripe-api-key", description = "Stripe secret API key" }
    STRIPE_WEBHOOK_SECRETS = { name = "stripe-webhook-secrets", description = "Comma list of Stripe webhook signing secrets (rotation)" }
    OPENAI_API_KEY         = { name = "openai-api-key", description = "OpenAI API key; leave without a value to disable AI grading" }
  }
}

resource "aws_secretsmanager_secret" "this" {
  for_each = local.secrets

  name                    = "${var.name_prefix}/${each.value.name}"
  description             = each.value.description
  recovery_window_in_days = var.recovery_window_in_days
}
