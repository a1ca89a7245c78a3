import ACOLCLI

ACOLCommand.main()
