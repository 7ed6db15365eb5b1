"""cripto_pipeline: the pipeline's logic as plain functions (no AWS calls).

Validation, feature engineering, training, evaluation and the S3 layout contract. Shipped to the
Lambda functions and to the Glue job; the handlers and the job script are thin shells over it.
"""

__version__ = "0.1.0"
