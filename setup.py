"""csqm: customer-service quality lake (PySpark + Delta Lake)."""
from setuptools import find_packages, setup

SPARK = "pyspark==4.2.0"
DELTA = "delta-spark==4.4.0"  # jar io.delta:delta-spark_4.2_2.13:4.4.0 pairs with Spark 4.2

setup(
    name="csqm",
    version="0.1.0",
    description="China Telecom Shandong customer-service quality data lake",
    package_dir={"": "lib"},
    packages=find_packages("lib"),
    python_requires=">=3.11,<3.12",
    install_requires=[SPARK, DELTA, "pyyaml>=6.0"],
    extras_require={
        # pytest < 9: xdist 3.8's loadgroup tags Item._nodeid, which pytest 9 ignores
        "test": ["pytest>=8.3,<9", "pytest-xdist>=3.5,<3.9",
                 "chispa>=0.10", "deltalake>=1.0", "nbclient>=0.10", "nbformat>=5.10", "ipykernel>=6.29",
                 "matplotlib>=3.8"],
        "dev": ["ruff>=0.6"],
        "xlsx": ["openpyxl>=3.1"],
        "airflow": ["apache-airflow>=2.7"],   # schedules/airflow_dag.py (not installed by make setup)
    },
    entry_points={"console_scripts": ["csqm=csqm.cli:main"]},
)
