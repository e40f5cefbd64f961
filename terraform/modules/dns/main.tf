# The public name of an environment: an ACM certificate validated through DNS
# in the environment's Route 53 zone, and alias records pointing the name at
# the network load balancer. ACM renews the certificate by itself as long as
# the validation record stays in place; the observability module alarms on
# DaysToExpiry in case it does not.

resource "aws_acm_certificate" "this" {
  domain_name       = var.hostname
  validation_method = "DNS"

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_route53_record" "validation" {
  for_each = {
    for option in aws_acm_certificate.this.domain_validation_options : option.domain_name => {
      name   = option.resource_record_name
      type   = option.resource_record_type
      record = option.resource_record_value
    }
  }

  zone_id         = var.zone_id
  name            = each.value.name
  type            = each.value.type
  records         = [each.value.record]
  ttl             = 300
  allow_overwrite = true
}

# Waits until ACM has issued the certificate; the TLS listener uses this
# resource's ARN so it is never attached before issuance.
resource "aws_acm_certificate_validation" "this" {
  certificate_arn         = aws_acm_certificate.this.arn
  validation_record_fqdns = [for record in aws_route53_record.validation : record.fqdn]
}

# IPv4 only, like the load balancer (an AAAA alias would answer nothing).
# allow_overwrite = false: an A record already at app_hostname (at the apex,
# often a parked page or an old site) fails the apply instead of being
# replaced without a word; delete or import it deliberately (runbook §1).
resource "aws_route53_record" "alias" {
  zone_id         = var.zone_id
  name            = var.hostname
  type            = "A"
  allow_overwrite = false

  alias {
    name                   = var.lb_dns_name
    zone_id                = var.lb_zone_id
    evaluate_target_health = true
  }
}
