"""measurer.core"""
