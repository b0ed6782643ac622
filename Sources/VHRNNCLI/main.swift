print("vhrnn")
