# frozen_string_literal: true

# Loads every test file: ruby -w -Ilib -Itest test/all.rb [-- minitest options]
Dir.glob(File.join(__dir__, "**", "*_test.rb")).sort.each { |file| require file }
