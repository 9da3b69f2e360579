"""Thin Airflow operators: parse args, call the Atlas libraries, report (XCom summary + lineage)."""
