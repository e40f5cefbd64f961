# The application tier: a network load balancer passing TCP 443/80 through to
# nginx on the hosts (nginx terminates TLS), and an Auto Scaling group of
# Debian 12 hosts that cloud-init turns into systemd services from a release
# in S3. Secrets are fetched by the services at start, never put in user data.

data "aws_region" "current" {}

data "aws_caller_identity" "current" {}

data "aws_ami" "debian" {
  most_recent = true
  owners      = ["136693071363"] # Debian cloud team

  filter {
    name   = "name"
    values = ["debian-12-amd64-*"]
  }

  filter {
    name   = "architecture"
    values = ["x86_64"]
  }

  filter {
    name   = "virtualization-type"
    values = ["hvm"]
  }
}

locals {
  user_data_template_path = coalesce(var.user_data_template_path, "${path.root}/../../../deploy/cloud-init/user-data.yaml.tftpl")

  # Non-secret settings, written to the service environment by cloud-init.
  app_env = {
    EASYSKS_ENV     = var.environment
    EASYSKS_WORKERS = tostring(var.worker_count)
    AUTH_ISSUER     = var.auth_issuer
    AUTH_JWKS_URL   = var.auth_jwks_url
    AUTH_CLIENT_IDS = join(",", var.auth_client_ids)
    STRIPE_PRICE_ID = var.stripe_price_id
    LOG_LEVEL       = var.log_level
  }

  # Secrets the host fetches (ARNs only): the application's, plus the
  # RDS-managed owner credentials that migrations use (DB_MASTER_SECRET).
  secret_arns = merge(var.secret_arns, { DB_MASTER_SECRET = var.db_master_secret_arn })

  # SSM parameters of deploy/aws (roll.sh, rollback.sh): the release hosts
  # install at boot, read by cloud-init through EASYSKS_RELEASE_PARAMETER.
  parameter_prefix = "/easysks/${var.environment}"

  # TCP passthrough listeners; both target groups are health checked with
  # HTTPS /health on 443 because port 80 only redirects.
  listeners = {
    https = 443
    http  = 80
  }
}

# --- Load balancer ---------------------------------------------------------

resource "aws_lb" "this" {
  name                             = var.name
  load_balancer_type               = "network"
  internal                         = false
  subnets                          = var.public_subnet_ids
  security_groups                  = [var.nlb_security_group_id]
  enable_cross_zone_load_balancing = true
  enable_deletion_protection       = var.nlb_deletion_protection
}

resource "aws_lb_target_group" "this" {
  for_each = local.listeners

  name                 = "${var.name}-${each.key}"
  vpc_id               = var.vpc_id
  target_type          = "instance"
  protocol             = "TCP"
  port                 = each.value
  preserve_client_ip   = "true"
  deregistration_delay = "30"

  health_check {
    protocol            = "HTTPS"
    port                = "443"
    path                = "/health"
    matcher             = "200"
    interval            = 10
    healthy_threshold   = 3
    unhealthy_threshold = 3
  }
}

resource "aws_lb_listener" "this" {
  for_each = local.listeners

  load_balancer_arn = aws_lb.this.arn
  protocol          = "TCP"
  port              = each.value

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this[each.key].arn
  }
}

# --- Release parameter -----------------------------------------------------

# Created with the launch template's release; afterwards deploy/aws/roll.sh
# owns the value (put-parameter --overwrite), so Terraform ignores it.
resource "aws_ssm_parameter" "release_version" {
  name        = "${local.parameter_prefix}/release_version"
  description = "Release the ${var.environment} hosts install at boot (set by deploy/aws/roll.sh)."
  type        = "String"
  value       = var.release_version

  lifecycle {
    ignore_changes = [value]
  }
}

# --- Instance role ---------------------------------------------------------

data "aws_iam_policy_document" "assume_ec2" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "instance" {
  statement {
    sid       = "ReadAppSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = values(local.secret_arns)
  }

  # Independent of AmazonSSMManagedInstanceCore (enable_ssm), which does not
  # grant it.
  statement {
    sid       = "ReadReleaseParameter"
    actions   = ["ssm:GetParameter"]
    resources = [aws_ssm_parameter.release_version.arn]
  }

  statement {
    sid       = "ListBuckets"
    actions   = ["s3:ListBucket"]
    resources = [var.release_bucket.arn, var.frontend_bucket.arn]
  }

  statement {
    sid       = "ReadObjects"
    actions   = ["s3:GetObject"]
    resources = ["${var.release_bucket.arn}/*", "${var.frontend_bucket.arn}/*"]
  }

  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = [for group in values(var.log_groups) : "${group.arn}:*"]
  }
}

resource "aws_iam_role" "instance" {
  name_prefix        = "${var.name}-host-"
  assume_role_policy = data.aws_iam_policy_document.assume_ec2.json
}

resource "aws_iam_role_policy" "instance" {
  name   = "easysks-host"
  role   = aws_iam_role.instance.id
  policy = data.aws_iam_policy_document.instance.json
}

resource "aws_iam_role_policy_attachment" "ssm" {
  count = var.enable_ssm ? 1 : 0

  role       = aws_iam_role.instance.name
  policy_arn = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_instance_profile" "instance" {
  name_prefix = "${var.name}-host-"
  role        = aws_iam_role.instance.name
}

# --- Deployer policy -------------------------------------------------------

# What deploy/aws (publish.sh, migrate.sh, roll.sh, rollback.sh) needs in this
# environment; attach it to the CI role or the operators' group (output
# deployer_policy_arn). Describe/Get* calls without resource-level permissions
# take "*".
data "aws_iam_policy_document" "deployer" {
  statement {
    sid       = "ReleaseParameters"
    actions   = ["ssm:GetParameter", "ssm:PutParameter"]
    resources = ["arn:aws:ssm:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:parameter${local.parameter_prefix}/*"]
  }

  statement {
    sid       = "RunShellScriptDocument"
    actions   = ["ssm:SendCommand"]
    resources = ["arn:aws:ssm:${data.aws_region.current.region}::document/AWS-RunShellScript"]
  }

  statement {
    sid       = "RunShellScriptOnHosts"
    actions   = ["ssm:SendCommand"]
    resources = ["arn:aws:ec2:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:instance/*"]

    condition {
      test     = "StringEquals"
      variable = "ssm:resourceTag/aws:autoscaling:groupName"
      values   = [aws_autoscaling_group.this.name]
    }
  }

  statement {
    sid       = "InstanceRefresh"
    actions   = ["autoscaling:StartInstanceRefresh", "autoscaling:CancelInstanceRefresh", "autoscaling:RollbackInstanceRefresh"]
    resources = [aws_autoscaling_group.this.arn]
  }

  statement {
    sid       = "Describe"
    actions   = ["autoscaling:DescribeInstanceRefreshes", "autoscaling:DescribeAutoScalingGroups", "ssm:GetCommandInvocation"]
    resources = ["*"]
  }

  statement {
    sid       = "ListBuckets"
    actions   = ["s3:ListBucket"]
    resources = [var.release_bucket.arn, var.frontend_bucket.arn]
  }

  # publish.sh reads an existing release's .sha256 (releases are immutable) and
  # syncs the bundle with --delete.
  statement {
    sid       = "UploadRelease"
    actions   = ["s3:PutObject", "s3:GetObject"]
    resources = ["${var.release_bucket.arn}/*"]
  }

  statement {
    sid       = "UploadFrontend"
    actions   = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"]
    resources = ["${var.frontend_bucket.arn}/*"]
  }
}

resource "aws_iam_policy" "deployer" {
  name        = "${var.name}-deployer"
  description = "Deploy EasySKS ${var.environment}: release parameters, migrations over SSM, instance refreshes, uploads."
  policy      = data.aws_iam_policy_document.deployer.json
}

# --- Launch template and Auto Scaling group --------------------------------

resource "aws_launch_template" "this" {
  name_prefix            = "${var.name}-"
  image_id               = coalesce(var.ami_id, data.aws_ami.debian.id)
  instance_type          = var.instance_type
  vpc_security_group_ids = [var.instance_security_group_id]
  update_default_version = true

  user_data = base64encode(templatefile(local.user_data_template_path, {
    env             = var.environment
    region          = data.aws_region.current.region
    release_bucket  = var.release_bucket.name
    release_version = var.release_version
    frontend_bucket = var.frontend_bucket.name
    app_env         = local.app_env
    secret_arns     = local.secret_arns
    log_groups      = { for key, group in var.log_groups : key => group.name }
  }))

  iam_instance_profile {
    arn = aws_iam_instance_profile.instance.arn
  }

  # IMDSv2 only, and not reachable from containers or forwarded packets.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  block_device_mappings {
    device_name = data.aws_ami.debian.root_device_name

    ebs {
      volume_type           = "gp3"
      volume_size           = var.root_volume_size
      encrypted             = true
      delete_on_termination = true
    }
  }

  tag_specifications {
    resource_type = "volume"
    tags          = merge(var.tags, { Name = var.name })
  }
}

resource "aws_autoscaling_group" "this" {
  name                      = var.name
  vpc_zone_identifier       = var.private_subnet_ids
  min_size                  = var.min_size
  max_size                  = var.max_size
  desired_capacity          = var.desired_capacity
  target_group_arns         = [for tg in aws_lb_target_group.this : tg.arn]
  health_check_type         = "ELB"
  health_check_grace_period = 300
  default_instance_warmup   = 120

  launch_template {
    id      = aws_launch_template.this.id
    version = aws_launch_template.this.latest_version
  }

  # A new launch template version (release, AMI, settings) replaces the hosts
  # gradually. Terraform returns once the refresh has started; deploy scripts
  # poll describe-instance-refreshes.
  instance_refresh {
    strategy = "Rolling"

    preferences {
      min_healthy_percentage = var.refresh_min_healthy_percentage
      max_healthy_percentage = 200
      auto_rollback          = true
    }
  }

  dynamic "tag" {
    for_each = merge(var.tags, { Name = var.name })

    content {
      key                 = tag.key
      value               = tag.value
      propagate_at_launch = true
    }
  }

  lifecycle {
    ignore_changes = [desired_capacity]
  }
}

resource "aws_autoscaling_policy" "cpu" {
  name                   = "${var.name}-cpu-target"
  autoscaling_group_name = aws_autoscaling_group.this.name
  policy_type            = "TargetTrackingScaling"

  target_tracking_configuration {
    target_value = var.cpu_target_percent

    predefined_metric_specification {
      predefined_metric_type = "ASGAverageCPUUtilization"
    }
  }
}
