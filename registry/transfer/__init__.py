"""Moving records in and out: CSV import (validated like the API) and CSV export."""
