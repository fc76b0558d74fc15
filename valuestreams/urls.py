app_name = "valuestreams"

urlpatterns: list = []
