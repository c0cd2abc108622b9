"""measurer.cli"""
