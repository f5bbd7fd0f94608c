terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

data "archive_file" "api" {
  type        = "zip"
  source_dir  = "${path.module}/src/api"
  output_path = "${path.module}/build/api.zip"
}

resource "aws_lambda_layer_version" "deps" {
  layer_name               = "deps"
  filename                 = "${path.module}/build/deps.zip"
  compatible_runtimes      = ["python3.10"]
  compatible_architectures = ["x86_64"]
}

# The API runs on Graviton; its dependencies were installed on a laptop.
resource "aws_lambda_function" "api" {
  function_name    = "api-${var.stage}"
  role             = aws_iam_role.lambda.arn
  filename         = data.archive_file.api.output_path
  source_code_hash = data.archive_file.api.output_base64sha256
  handler          = "app.handler"
  runtime          = "python3.10"
  architectures    = ["arm64"]
  layers = [
    aws_lambda_layer_version.deps.arn,
    "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python310-arm64:7",
  ]
}

resource "aws_lambda_function" "worker" {
  function_name = "worker-${var.stage}"
  role          = aws_iam_role.lambda.arn
  filename      = "${path.module}/build/worker.zip"
  handler       = "index.handler"
  runtime       = var.worker_runtime
}

resource "aws_lambda_function" "thumbnail" {
  function_name = "thumbnail-${var.stage}"
  role          = aws_iam_role.lambda.arn
  package_type  = "Image"
  image_uri     = "${aws_ecr_repository.thumbnail.repository_url}:latest"
}

resource "aws_ecr_repository" "thumbnail" {
  name = "thumbnail"
}

resource "aws_iam_role" "lambda" {
  name = "lambda-${var.stage}"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Action    = "sts:AssumeRole"
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
    }]
  })
}
