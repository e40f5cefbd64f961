variable "hostname" {
  description = "Public host name of the environment, e.g. staging.example.org."
  type        = string
}

variable "zone_id" {
  description = "Route 53 hosted zone that holds hostname (records and certificate validation)."
  type        = string
}

variable "lb_dns_name" {
  description = "DNS name of the load balancer the host name points at."
  type        = string
}

variable "lb_zone_id" {
  description = "Hosted zone of the load balancer (alias target)."
  type        = string
}
