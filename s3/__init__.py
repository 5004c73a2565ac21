"""The S3 adapter: bucket ``io`` on the instance's own URL, a PAT as the access key (AWS Signature V4)."""
