# frozen_string_literal: true

module Scope
  module Template
    # The parsed template, shaped like Jinja2's tree so that refused constructs get
    # the server's names. The Checker turns it into render nodes (see Nodes).
    module Ast
      # Statements.
      Text = Struct.new(:text)
      Output = Struct.new(:expr, :line)
      If = Struct.new(:test, :body, :elifs, :else_body, :line)
      For = Struct.new(:target, :iter, :test, :recursive, :body, :else_body, :line)

      # Expressions.
      Name = Struct.new(:name, :line)
      Const = Struct.new(:value, :line)
      Getattr = Struct.new(:node, :attr, :line)
      Getitem = Struct.new(:node, :arg, :line)
      Slice = Struct.new(:start, :stop, :step, :line)
      Call = Struct.new(:node, :args, :kwargs, :dyn, :line)
      Filter = Struct.new(:node, :name, :args, :kwargs, :dyn, :line)
      Test = Struct.new(:node, :name, :line)
      BinExpr = Struct.new(:operator, :left, :right, :line)
      UnaryExpr = Struct.new(:operator, :node, :line)
      Concat = Struct.new(:nodes, :line)
      Compare = Struct.new(:expr, :ops, :line)
      CondExpr = Struct.new(:test, :expr1, :expr2, :line)
      ListLit = Struct.new(:items, :line)
      DictLit = Struct.new(:pairs, :line)
      TupleLit = Struct.new(:items, :line)
    end
  end
end
