# The application tier: a network load balancer terminating TLS on 443 with
# an ACM certificate and re-encrypting to nginx on the hosts (80 passes
# through and redirects), and an Auto Scaling group of Debian 12 hosts that
# cloud-init turns into systemd services from a release in S3. Secrets are
# fetched by the services at start, never put in user data.

data "aws_region" "current" {}

data "aws_caller_identity" "current" {}

locals {
  # deploy/host scripts cloud-init needs before any release is installed,
  # embedded in the user data as they are (the release ships them too).
  boot_scripts = ["install-agents", "bootstrap", "install-release"]

  # Non-secret settings, written to the service environment by cloud-init.
  app_env = {
    EASYSKS_ENV     = var.environment
    EASYSKS_WORKERS = tostring(var.worker_count)
    AUTH_ISSUER     = var.auth_issuer
    AUTH_JWKS_URL   = var.auth_jwks_url
    AUTH_CLIENT_IDS = join(",", var.auth_client_ids)
    STRIPE_PRICE_ID = var.stripe_price_id
    LOG_LEVEL       = var.log_level
    # easysks-jobs' grading processes: each holds a database connection
    # (the stack's db_connections check counts them).
    AI_JOBS_PARALLEL = tostring(var.ai_jobs_parallel)

    # Where Stripe sends the learner back: the web client's pages
    # (app/web/js/views/plan.js). Checkout appends the session id.
    STRIPE_SUCCESS_URL       = "https://${var.app_hostname}/abo/erfolg?session={CHECKOUT_SESSION_ID}"
    STRIPE_CANCEL_URL        = "https://${var.app_hostname}/abo/abbruch"
    STRIPE_PORTAL_RETURN_URL = "https://${var.app_hostname}/konto"
  }

  region     = data.aws_region.current.region
  account_id = data.aws_caller_identity.current.account_id

  # SSM parameters of the environment: the release hosts install at boot,
  # the previous release (rollback.sh) and the deploy lock (deploy.sh).
  parameter_prefix = "/easysks/${var.environment}"
  parameter_arns   = "arn:aws:ssm:${local.region}:${local.account_id}:parameter${local.parameter_prefix}/*"

  # Built from the name rather than taken from the group, so the host role
  # does not depend on the group it serves.
  asg_arn = "arn:aws:autoscaling:${local.region}:${local.account_id}:autoScalingGroup:*:autoScalingGroupName/${var.name}"

  # 443: the load balancer terminates TLS with the ACM certificate (renewed
  # by AWS) and opens a new TLS connection to nginx, which serves a
  # host-local certificate nobody else sees (easysks-tls). 80: plain TCP to
  # nginx, which only redirects to https.
  listeners = {
    https = { port = 443, protocol = "TLS", target_protocol = "TLS" }
    http  = { port = 80, protocol = "TCP", target_protocol = "TCP" }
  }

  # Answered by a worker: 200 only with the database reachable and the schema
  # at the release's version (app/h_health.c).
  readiness_path = "/api/health"

  # The launch lifecycle hook the bootstrap completes once readiness answers
  # 200 (CONTINUE), or gives up on (ABANDON: the instance is replaced and an
  # instance refresh does not count it as healthy).
  ready_hook = "easysks-ready"
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

# Both target groups are health checked with HTTPS GET /api/health on 443:
# readiness answered by a worker of the pool (database reachable, schema
# current), not nginx's own /health, so a host whose pool is dead or cut off
# from the database leaves the rotation. If every host fails at once (the
# database is down), the load balancer fails open and keeps sending traffic
# to all of them. Client IP preservation keeps the real address in nginx's
# access log and rate limits.
resource "aws_lb_target_group" "this" {
  for_each = local.listeners

  name                 = "${var.name}-${each.key}"
  vpc_id               = var.vpc_id
  target_type          = "instance"
  protocol             = each.value.target_protocol
  port                 = each.value.port
  preserve_client_ip   = "true"
  deregistration_delay = "30"

  health_check {
    protocol            = "HTTPS"
    port                = "443"
    path                = local.readiness_path
    matcher             = "200"
    interval            = 10
    timeout             = 5
    healthy_threshold   = 3
    unhealthy_threshold = 3
  }
}

resource "aws_lb_listener" "this" {
  for_each = local.listeners

  load_balancer_arn = aws_lb.this.arn
  protocol          = each.value.protocol
  port              = each.value.port
  certificate_arn   = each.value.protocol == "TLS" ? var.certificate_arn : null
  ssl_policy        = each.value.protocol == "TLS" ? var.tls_policy : null

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this[each.key].arn
  }
}

# --- Release parameter -----------------------------------------------------

# The release hosts install at boot, read by the bootstrap from SSM and from
# nowhere else (user data carries no version, so a release never changes the
# launch template). Created with the placeholder "none" (hosts refuse to
# start without a release); deploy/aws/roll.sh owns the value afterwards.
resource "aws_ssm_parameter" "release_version" {
  name        = "${local.parameter_prefix}/release_version"
  description = "Release the ${var.environment} hosts install at boot (set by deploy/aws/roll.sh)."
  type        = "String"
  value       = "none"

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

# Only root on the host reaches the instance metadata service (the service
# users easysks and www-data are blocked by the host firewall), so these
# credentials are the bootstrap's, the agents' and the secret fetchers', never
# a worker's.
data "aws_iam_policy_document" "instance" {
  statement {
    sid       = "ReadAppSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = values(var.secret_arns)
  }

  # Fetched only by easysks-migrate@.service into a directory of the
  # easysks-migrate user.
  statement {
    sid       = "ReadMasterSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.db_master_secret_arn]
  }

  # The environment's parameters only (AmazonSSMManagedInstanceCore would
  # allow ssm:GetParameter* on every parameter of the account).
  statement {
    sid       = "ReadEnvironmentParameters"
    actions   = ["ssm:GetParameter"]
    resources = [local.parameter_arns]
  }

  # The bootstrap completes the launch hook (and keeps it alive with
  # heartbeats); easysks-pool-watch marks the host unhealthy when its pool
  # hangs, so that the group replaces it.
  statement {
    sid       = "LaunchLifecycleAndHealth"
    actions   = ["autoscaling:CompleteLifecycleAction", "autoscaling:RecordLifecycleActionHeartbeat", "autoscaling:SetInstanceHealth"]
    resources = [local.asg_arn]
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

  # The CloudWatch agent: its log groups exist (observability module), and
  # the Auto Scaling group's name comes from its configuration, not from
  # ec2:DescribeTags.
  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = [for group in values(var.log_groups) : "${group.arn}:*"]
  }

  statement {
    sid       = "PutHostMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = [var.host_metrics_namespace]
    }
  }

  # What the SSM agent needs for Run Command (deploy/aws/migrate.sh) and
  # Session Manager, without the parameter and S3 reads of the managed policy.
  dynamic "statement" {
    for_each = var.enable_ssm ? [true] : []

    content {
      sid = "SsmAgent"
      actions = [
        "ssm:UpdateInstanceInformation",
        "ssm:ListInstanceAssociations",
        "ssm:DescribeAssociation",
        "ssm:UpdateInstanceAssociationStatus",
        "ssm:GetDocument",
        "ssm:DescribeDocument",
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
        "ec2messages:AcknowledgeMessage",
        "ec2messages:DeleteMessage",
        "ec2messages:FailMessage",
        "ec2messages:GetEndpoint",
        "ec2messages:GetMessages",
        "ec2messages:SendReply",
      ]
      resources = ["*"]
    }
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

resource "aws_iam_instance_profile" "instance" {
  name_prefix = "${var.name}-host-"
  role        = aws_iam_role.instance.name
}

# --- Deployer policy -------------------------------------------------------

# What deploy/aws (deploy.sh and the steps it runs: publish.sh, migrate.sh,
# roll.sh, rollback.sh) needs in this environment; attach it to the CI role
# or the operators' group (output deployer_policy_arn). Describe/Get* calls
# without resource-level permissions take "*".
data "aws_iam_policy_document" "deployer" {
  # release_version, previous_release_version and the deploy lock.
  statement {
    sid       = "ReleaseParametersAndLock"
    actions   = ["ssm:GetParameter", "ssm:PutParameter", "ssm:DeleteParameter"]
    resources = [local.parameter_arns]
  }

  statement {
    sid       = "RunShellScriptDocument"
    actions   = ["ssm:SendCommand"]
    resources = ["arn:aws:ssm:${local.region}::document/AWS-RunShellScript"]
  }

  statement {
    sid       = "RunShellScriptOnHosts"
    actions   = ["ssm:SendCommand"]
    resources = ["arn:aws:ec2:${local.region}:${local.account_id}:instance/*"]

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

  # A refresh with a desired configuration (roll.sh --launch-template)
  # updates the group's launch template: launching from it and passing the
  # host role are checked then.
  statement {
    sid       = "LaunchFromTemplate"
    actions   = ["ec2:RunInstances"]
    resources = ["*"]

    condition {
      test     = "ArnLike"
      variable = "ec2:LaunchTemplate"
      values   = [aws_launch_template.this.arn]
    }
  }

  # Tag-on-create: the instances and volumes RunInstances creates carry the
  # group's and the template's tags; the tags' resources have no
  # ec2:LaunchTemplate key, so this is allowed by the creating action instead.
  statement {
    sid       = "TagOnLaunch"
    actions   = ["ec2:CreateTags"]
    resources = ["arn:aws:ec2:${local.region}:${local.account_id}:*/*"]

    condition {
      test     = "StringEquals"
      variable = "ec2:CreateAction"
      values   = ["RunInstances"]
    }
  }

  statement {
    sid       = "PassHostRole"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.instance.arn]
  }

  statement {
    sid = "Describe"
    actions = [
      "autoscaling:DescribeInstanceRefreshes",
      "autoscaling:DescribeAutoScalingGroups",
      "ec2:DescribeLaunchTemplates",
      "ec2:DescribeLaunchTemplateVersions",
      "ssm:GetCommandInvocation",
      "rds:DescribeDBSnapshots",
    ]
    resources = ["*"]
  }

  # migrate.sh snapshots the database before applying migrations and prunes
  # its own older pre-migration snapshots.
  statement {
    sid       = "PreMigrationSnapshot"
    actions   = ["rds:CreateDBSnapshot", "rds:AddTagsToResource"]
    resources = [var.db_instance_arn, "arn:aws:rds:${local.region}:${local.account_id}:snapshot:${var.name}-pre-*"]
  }

  statement {
    sid       = "PrunePreMigrationSnapshots"
    actions   = ["rds:DeleteDBSnapshot"]
    resources = ["arn:aws:rds:${local.region}:${local.account_id}:snapshot:${var.name}-pre-*"]
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

  # admin.sh --user-pool-id looks a learner's e-mail address up in the pool.
  statement {
    sid       = "AdminUserLookup"
    actions   = ["cognito-idp:ListUsers"]
    resources = [var.user_pool_arn]
  }
}

resource "aws_iam_policy" "deployer" {
  name        = "${var.name}-deployer"
  description = "Deploy EasySKS ${var.environment}: release parameters and lock, migrations over SSM, snapshots, instance refreshes, uploads."
  policy      = data.aws_iam_policy_document.deployer.json
}

# --- Launch template and Auto Scaling group --------------------------------

resource "aws_launch_template" "this" {
  name_prefix            = "${var.name}-"
  image_id               = var.ami_id
  instance_type          = var.instance_type
  vpc_security_group_ids = [var.instance_security_group_id]
  update_default_version = true

  # No release version in here: hosts read it from SSM at boot, so a release
  # never creates a launch template version. Compressed: three embedded
  # scripts would not fit EC2's 16 KiB otherwise (cloud-init unpacks gzip).
  user_data = base64gzip(templatefile(var.user_data_template_path, {
    env                  = var.environment
    region               = local.region
    asg_name             = var.name
    ready_hook           = local.ready_hook
    ready_timeout        = var.ready_timeout_seconds
    ready_hook_timeout   = var.ready_hook_timeout_seconds
    release_bucket       = var.release_bucket.name
    release_parameter    = aws_ssm_parameter.release_version.name
    frontend_bucket      = var.frontend_bucket.name
    app_env              = local.app_env
    secret_arns          = var.secret_arns
    db_master_secret     = var.db_master_secret_arn
    log_groups           = { for key, group in var.log_groups : key => group.name }
    metrics_namespace    = var.host_metrics_namespace
    ssm_agent_url        = "https://s3.${local.region}.amazonaws.com/amazon-ssm-${local.region}/latest/debian_amd64/amazon-ssm-agent.deb"
    cloudwatch_agent_url = "https://amazoncloudwatch-agent-${local.region}.s3.${local.region}.amazonaws.com/debian/amd64/latest/amazon-cloudwatch-agent.deb"
    rds_ca_bundle_url    = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"
    scripts              = { for name in local.boot_scripts : "easysks-${name}" => file("${var.host_scripts_dir}/${name}.sh") }
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
    device_name = var.root_device_name

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
  name                = var.name
  vpc_zone_identifier = var.private_subnet_ids
  min_size            = var.min_size
  max_size            = var.max_size
  desired_capacity    = var.desired_capacity
  target_group_arns   = [for tg in aws_lb_target_group.this : tg.arn]
  # EC2, not ELB: readiness (which includes the database) must not make the
  # group replace every host during a database failover. A launch is gated by
  # the lifecycle hook below; later, the load balancer takes a host whose
  # pool fails /api/health out of the rotation and systemd restarts the
  # services; the healthy-hosts alarm fires if that is not enough.
  health_check_type         = "EC2"
  health_check_grace_period = 300
  default_instance_warmup   = 120

  # New hosts wait in Pending:Wait on the launch hook until migrations ran
  # (deploy/aws/migrate.sh, after the apply): waiting here for them to be
  # InService would fail the apply after 10 minutes. Readiness is the hook's
  # and the deploy's business, not Terraform's.
  wait_for_capacity_timeout = "0"

  # A host counts as launched only when its bootstrap completes this hook,
  # after /api/health answered 200 on it; on ABANDON (or no answer within
  # the heartbeat timeout) it is terminated. Declared inline so that it also
  # holds for the group's very first instances; aws_autoscaling_lifecycle_hook
  # .ready below owns it afterwards (the provider applies the inline block at
  # creation only, so a new timeout would otherwise never arrive).
  initial_lifecycle_hook {
    name                 = local.ready_hook
    lifecycle_transition = "autoscaling:EC2_INSTANCE_LAUNCHING"
    default_result       = "ABANDON"
    heartbeat_timeout    = var.ready_hook_timeout_seconds
  }

  # Terraform creates the group with the template's version of the day and
  # then leaves the version to deploy/aws/roll.sh --launch-template, which
  # starts an instance refresh with that version as its desired
  # configuration, so that an automatic rollback goes back to the version
  # the hosts ran before (a refresh started by Terraform after switching the
  # version itself would "roll back" to the new one).
  launch_template {
    id      = aws_launch_template.this.id
    version = aws_launch_template.this.latest_version
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
    ignore_changes = [desired_capacity, launch_template]
  }
}

# The same hook as the group's inline one, as a resource of its own so that
# its timeout can change later (PutLifecycleHook updates it in place).
resource "aws_autoscaling_lifecycle_hook" "ready" {
  name                   = local.ready_hook
  autoscaling_group_name = aws_autoscaling_group.this.name
  lifecycle_transition   = "autoscaling:EC2_INSTANCE_LAUNCHING"
  default_result         = "ABANDON"
  heartbeat_timeout      = var.ready_hook_timeout_seconds
}

# Scaling follows the pool, not the CPU: workers wait on the database, so
# every worker of a host is busy at roughly 15 % CPU (docs/capacity.md).
# easysks-pool-watch publishes the share of busy workers per host every
# minute (BusyWorkersPercent, from the pool's scoreboard); the group keeps
# its average at busy_workers_target_percent.
resource "aws_autoscaling_policy" "busy_workers" {
  name                   = "${var.name}-busy-workers-target"
  autoscaling_group_name = aws_autoscaling_group.this.name
  policy_type            = "TargetTrackingScaling"

  target_tracking_configuration {
    target_value = var.busy_workers_target_percent

    customized_metric_specification {
      namespace   = var.host_metrics_namespace
      metric_name = "BusyWorkersPercent"
      statistic   = "Average"
      unit        = "Percent"

      metric_dimension {
        name  = "AutoScalingGroupName"
        value = var.name
      }
    }
  }
}

# A second target: a host whose CPU runs hot scales out too (target
# tracking scales out when any policy asks and in only when all agree). On
# t3 hosts in unlimited mode CPU above the baseline (20 % per vCPU on
# t3.small/medium) is charged as surplus credits: a 60 % target lets that
# happen for hours (docs/capacity.md).
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
