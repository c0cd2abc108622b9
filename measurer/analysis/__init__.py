"""measurer.analysis"""
