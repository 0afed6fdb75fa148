"""Placeholder blueprint, replaced by its owner."""

from flask import Blueprint

bp = Blueprint("auth", __name__)
