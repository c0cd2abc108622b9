"""measurer.io"""
